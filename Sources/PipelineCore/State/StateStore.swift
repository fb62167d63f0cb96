/// Durable per-item, per-stage state: the seam between the orchestrator and where state lives.
///
/// The embedded driver is `SQLiteStateStore`, the reference one `MemoryStateStore`; others (a
/// server database, for runners that share work) fit behind the same protocol. What happens to an
/// item is decided by `ItemLedger` alone: a driver loads the records, lets the ledger decide and
/// stores what it decided; `StateStoreConformanceTests` holds every driver to that. Every method is
/// a small, bounded amount of work: never a rewrite of the whole state.
public protocol StateStore: Sendable {
    /// Commits the transitions atomically and durably (survives `kill -9`) before returning.
    /// Concurrent callers may share one transaction (group commit); each still returns only
    /// once its own transitions are committed.
    func commit(_ transitions: [StateTransition]) async throws

    /// The same, blocking the calling thread; for code that runs off the async world (the
    /// output reader of an external stage).
    func commitSynchronously(_ transitions: [StateTransition]) throws

    /// Records a fresh listing: adds new items, updates sizes, and resets unfinished items whose
    /// size or modification time changed.
    func recordListing(_ items: [SourceItem]) throws -> ListingChanges

    func item(_ path: String) throws -> ItemRecord?
    func stageRecords(for path: String) throws -> [String: StageRecord]
    /// Every item, in the order first listed.
    func allItems() throws -> [ItemRecord]
    func summary(maxFailures: Int) throws -> StateSummary

    /// Up to `limit` items given up (failed `maxFailures` runs or more), in listed order: a run
    /// names them at its end without reading the whole state (`summary` counts them all).
    func givenUpItems(maxFailures: Int, limit: Int) throws -> [ItemRecord]

    /// The sizes of the items a run would still work on (pending, in progress, failed fewer than
    /// `maxFailures` runs): up to `limit` after `cursor` (nil: from the first), so the sizes of a
    /// state of any size are read page by page, each page one bounded read.
    func unfinishedSizes(maxFailures: Int, after cursor: SizePage.Cursor?, limit: Int) throws -> SizePage

    /// Makes failed (and skipped) items eligible again; returns how many changed.
    func retry(paths: [String]?, includeSkipped: Bool) throws -> Int
    /// Forgets an item entirely, so the next run processes it from the start.
    func forget(path: String) throws -> Bool

    /// Replaces items with imported records (seed import), in one transaction.
    func importItems(_ records: [ItemRecord]) throws

    func metadata(_ key: String) throws -> String?
    /// Sets (or, for nil, removes) several keys in one transaction: all or none.
    func setMetadata(_ changes: [String: String?]) throws

    /// Adds `amount` to the counter `name` for `period` (say, a quota's day) unless that would pass
    /// `limit`; returns whether it was added. Atomic, across runners where several share the state.
    func spend(_ name: String, period: String, amount: Int, limit: Int) throws -> Bool

    /// Writes a consistent copy of the whole state to a new file at `path`.
    func saveCopy(to path: String) throws

    // MARK: Moving a state between stores (`StateCopier`)

    /// Up to `limit` items (`ItemPage.limits`) in listed order, each with every stage record,
    /// starting after `cursor` (nil: from the first). Each item is read together with its stage
    /// records; a page is one bounded read, so a state of any size is read page by page.
    func itemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage

    /// Stores items exactly as given, with their stage records, in one transaction: a new item
    /// goes after every item listed (in the order given), an item already there is replaced whole
    /// and keeps its place. No rule runs on them: they are a copy of another state's records.
    func storeItems(_ items: [StoredItem]) throws

    /// Every metadata entry (stage memories included); counters are not metadata (`counters()`).
    func metadataEntries() throws -> [String: String]

    /// Every counter `spend` keeps.
    func counters() throws -> [StateCounter]

    /// Sets these counters to their values, in one transaction.
    func setCounters(_ counters: [StateCounter]) throws

    /// Empties the state in one transaction: items, stage records, failure histories, runs,
    /// counters and metadata but the store's own (`StoreMetadataKeys.own`); a shared state also its
    /// listings, leases and roles.
    func removeEverything() throws

    /// Flushes and closes; afterwards the state is one self-contained file.
    func close() throws

    // MARK: Run history

    /// Records that a run began; returns its number: one more than the last run's, across every
    /// runner of the state.
    func beginRun(runner: String, startedAt: Double) throws -> Int64

    /// Records how run `record.number` ended (a run killed before this keeps no end).
    func finishRun(_ record: RunRecord) throws

    /// The last `limit` runs, oldest first.
    func runs(limit: Int) throws -> [RunRecord]

    /// The failed items (their last run failed them, given up or not), counted by the category of
    /// their last failure.
    func failedItemsByCategory() throws -> [FailureCategory: Int]

    /// Up to `limit` failed items (`ItemPage.limits`) in listed order after `cursor`, each with its
    /// failure history (`FailureEvidence`, oldest first) and no stage records: `pipeline failures`
    /// reads a state of any size page by page, and only its failed items.
    func failedItemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage

    /// Stores runs exactly as given (another state's history, moved by `StateCopier`), replacing
    /// a run of the same number.
    func storeRuns(_ records: [RunRecord]) throws
}

extension StateStore {
    /// From `allItems()`: for a store that holds every item in memory anyway.
    public func givenUpItems(maxFailures: Int, limit: Int) throws -> [ItemRecord] {
        Array(try allItems().lazy.filter { $0.hasGivenUp(maxFailures: maxFailures) }.prefix(max(0, limit)))
    }

    /// From `allItems()`, in one page: for a store that holds every item in memory anyway.
    public func unfinishedSizes(maxFailures: Int, after cursor: SizePage.Cursor?, limit: Int) throws -> SizePage {
        guard cursor == nil else { return SizePage(sizes: [], next: nil) }
        return SizePage(sizes: try allItems().compactMap { item in
            switch item.status {
            case .completed, .skipped: return nil
            case .failed where item.hasGivenUp(maxFailures: maxFailures): return nil
            default: return item.size ?? 0
            }
        }, next: nil)
    }

    public func commit(_ transition: StateTransition) async throws { try await commit([transition]) }
    public func setMetadata(_ key: String, _ value: String) throws { try setMetadata([key: value]) }

    /// A stage's own memory (`StageContext.remember`), kept apart from the store's metadata and
    /// from other stages' memories.
    public func setStageMemory(stage: String, _ changes: [String: String?]) throws {
        try setMetadata(Dictionary(uniqueKeysWithValues: changes.map { (Self.memoryKey(stage: stage, $0.key), $0.value) }))
    }

    public func stageMemory(stage: String, _ key: String) throws -> String? { try metadata(Self.memoryKey(stage: stage, key)) }

    static func memoryKey(stage: String, _ key: String) -> String { "stage:\(stage):\(key)" }
}
