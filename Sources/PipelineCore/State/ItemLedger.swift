/// The rules about one item's records: given what is stored and an event, what is stored next.
///
/// Every state driver keeps items by these rules and stores only what they decide, so a changed
/// source file loses its partial work, a failure counts once per run and a skip stops the running
/// stage alike in SQLite, in memory or on a server. A driver loads the item, hands the ledger the
/// stage records an event needs (`stagesToLoad(for:)`, `learn`), applies events, and then writes
/// what `changes` lists: nothing else.
public struct ItemLedger: Sendable, Equatable {
    public let path: String
    /// Whether the item was in the state when the ledger was loaded (a driver inserts or updates).
    public private(set) var wasStored: Bool
    /// The item as the rules leave it; nil when it is not, or no longer, in the state.
    public private(set) var item: ItemRecord?
    /// The stage records the ledger knows, as the rules leave them.
    public private(set) var stages: [String: StageRecord]
    /// What differs from the stored records.
    public private(set) var changes = Changes()
    private var knowsAllStages: Bool
    private var knownStages: Set<String>

    /// What a driver writes back after the rules ran.
    public struct Changes: Sendable, Equatable {
        /// The item record differs: write it whole, or delete it when `item` is nil.
        public var item = false
        /// Every stage record stored before is gone (delete them before writing `stages`).
        public var discardsAllStages = false
        /// Stage records to write (present in `stages`) or delete (absent).
        public var stages: Set<String> = []
        /// Failures to add to the item's history, oldest first (its oldest beyond `FailureEvidence.limit` go).
        public var failures: [FailureEvidence] = []
        /// The failures this run recorded are taken back (an outage, not the item).
        public var withdrawnFailuresOfRun: Int64?
        /// The item's failure history is gone with it (forgotten).
        public var discardsFailures = false
        public var isEmpty: Bool { !item && !discardsAllStages && stages.isEmpty && failures.isEmpty && withdrawnFailuresOfRun == nil && !discardsFailures }
    }

    /// The stored stage records an event needs before the rules can decide.
    public enum StageNeed: Sendable, Equatable {
        case none
        case stage(String)
        case all
    }

    /// What listing an item did to it.
    public enum ListingVerdict: Sendable, Equatable {
        case added
        /// Unfinished, and its size or modification time differ: its partial work is discarded.
        case changed
        case kept
    }

    /// A ledger over what is stored; `allStagesKnown` when `stages` holds every stage record of
    /// the item (a driver that loads stage records lazily passes false and answers `stagesToLoad`).
    public init(path: String, item: ItemRecord?, stages: [String: StageRecord] = [:], allStagesKnown: Bool = true) {
        self.path = path
        self.wasStored = item != nil
        self.item = item
        self.stages = stages
        self.knowsAllStages = allStagesKnown
        self.knownStages = Set(stages.keys)
    }

    // MARK: Loading

    /// The stored stage records `transition` reads that the ledger does not know yet.
    public func stagesToLoad(for transition: StateTransition) -> StageNeed {
        guard item != nil, !knowsAllStages else { return .none }
        switch transition {
        case .stageStarted(_, let stage, _), .stageProcess(_, let stage, _, _), .stageCheckpoint(_, let stage, _),
             .stageDone(_, let stage, _), .stageAttemptFailed(_, let stage, _, _):
            return knownStages.contains(stage) ? .none : .stage(stage)
        case .itemSkipped:
            return .all
        case .stagesReset, .itemCompleted, .itemFailed, .itemFailureForgiven:
            return .none
        }
    }

    /// Takes in stored stage records (`all`: every one the item has). What the rules already
    /// changed or discarded is not overwritten.
    public mutating func learn(_ records: [String: StageRecord], all: Bool) {
        guard !knowsAllStages else { return }
        for (name, record) in records where !knownStages.contains(name) {
            stages[name] = record
            knownStages.insert(name)
        }
        if all { knowsAllStages = true }
    }

    /// One thing a driver does to store the changes: in the order `writes` lists them.
    public enum Write: Sendable, Equatable {
        case deleteAllStages
        case deleteStage(String)
        /// Insert, or replace the stored record of the same stage.
        case putStage(StageRecord)
        case deleteItem
        case updateItem(ItemRecord)
        /// A new item: it takes the next listed order.
        case insertItem(ItemRecord)
        /// Adds a failure to the item's history and drops its failures beyond the newest `FailureEvidence.limit`.
        case recordFailure(FailureEvidence)
        /// Removes the item's failures recorded by this run.
        case withdrawFailures(run: Int64)
        /// Removes the item's whole failure history.
        case deleteFailures
    }

    /// What to write, in order, to store the changes (nothing when there are none). Every driver
    /// stores exactly these, each in its own SQL.
    public var writes: [Write] {
        var writes: [Write] = changes.discardsAllStages ? [.deleteAllStages] : []
        for name in changes.stages.sorted() {
            writes.append(stages[name].map { .putStage($0) } ?? .deleteStage(name))
        }
        if changes.item {
            if let item { writes.append(wasStored ? .updateItem(item) : .insertItem(item)) } else { writes.append(.deleteItem) }
        }
        if changes.discardsFailures { writes.append(.deleteFailures) }
        if let run = changes.withdrawnFailuresOfRun { writes.append(.withdrawFailures(run: run)) }
        writes += changes.failures.map { .recordFailure($0) }
        return writes
    }

    /// The ledger once its changes are stored: what it holds is now what is stored.
    public func settled() -> ItemLedger {
        var settled = self
        settled.wasStored = item != nil
        settled.changes = Changes()
        return settled
    }

    // MARK: Transitions

    /// Applies one transition committed at `now`, by run `run` (`StateStore.beginRun`; nil outside
    /// a run's history): the run is what counts the runs that tried an item, and it is named in a
    /// failure's evidence.
    ///
    /// A transition for an item that is not in the state is refused: the orchestrator only works
    /// on listed items, so it is a mistake, and the whole commit is refused with it.
    public mutating func apply(_ transition: StateTransition, at now: Double, run: Int64? = nil) throws {
        guard var record = item else {
            throw PipelineError(.internalError, "a state transition names '\(path)', which is not in the state; nothing of this commit was recorded",
                                hint: "items are recorded by listing them first; this is a bug in pipeline, please report it")
        }
        switch transition {
        case .stageStarted(_, let stage, let attempt):
            var started = stages[stage] ?? StageRecord(stage: stage, status: .running, attempt: attempt)
            started.status = .running
            started.attempt = attempt
            started.error = nil
            started.updatedAt = now
            setStage(started)
            record.status = .inProgress
            record.stage = stage
            record.updatedAt = now
            if let run, record.lastTriedRun != run {
                record.triedRuns += 1
                record.lastTriedRun = run
            }
        case .stageProcess(_, let stage, let processID, let processStart):
            guard var running = stages[stage] else { return }
            running.processID = processID
            running.processStart = processStart
            setStage(running)
        case .stageCheckpoint(_, let stage, let values):
            guard var running = stages[stage] else { return }
            running.checkpoint = values
            running.updatedAt = now
            setStage(running)
        case .stageDone(_, let stage, let outputs):
            var done = stages[stage] ?? StageRecord(stage: stage, status: .done, attempt: 1)
            done.status = .done
            done.outputs = outputs
            done.checkpoint = nil
            done.error = nil
            done.processID = nil
            done.processStart = nil
            done.updatedAt = now
            setStage(done)
        case .stageAttemptFailed(_, let stage, let attempt, let error):
            guard var failed = stages[stage] else { return }
            failed.status = .failed
            failed.attempt = attempt
            failed.error = error
            failed.processID = nil
            failed.processStart = nil
            failed.updatedAt = now
            setStage(failed)
        case .stagesReset(_, let names):
            for name in names { removeStage(name) }
        case .itemCompleted(_, let stage):
            record.status = .completed
            record.stage = stage
            record.lastError = nil
            record.skipReason = nil
            record.lastCategory = nil
            record.completedAt = now
            record.updatedAt = now
        case .itemFailed(_, let stage, let error, let category, let attempt):
            record.status = .failed
            record.stage = stage
            record.failures += 1
            record.lastError = error
            record.firstFailed = record.firstFailed ?? now
            record.lastFailed = now
            record.updatedAt = now
            record.lastCategory = category ?? FailureClassifier.category(of: error)
            // The evidence goes in with the failure, in the same transaction.
            changes.failures.append(FailureEvidence(path: path, run: run, stage: stage, category: record.lastCategory ?? .other, error: error,
                                                    attempt: max(1, attempt), at: now))
        case .itemFailureForgiven:
            guard record.status == .failed else { return }
            record.status = .inProgress
            record.failures = max(0, record.failures - 1)
            // An outage, not the item: this run neither tried it nor failed it.
            if let run, record.lastTriedRun == run { record.triedRuns = max(0, record.triedRuns - 1) }
            record.updatedAt = now
            if let run {
                changes.failures.removeAll { $0.run == run }
                changes.withdrawnFailuresOfRun = run
            }
        case .itemSkipped(_, let reason):
            record.status = .skipped
            record.skipReason = reason
            record.updatedAt = now
            // The stage that decided it is no longer running.
            for var running in stages.values where running.status == .running {
                running.status = .skipped
                running.processID = nil
                running.processStart = nil
                running.updatedAt = now
                setStage(running)
            }
        }
        setItem(record)
    }

    // MARK: Listing and maintenance

    /// Records that the source lists the item as `source` now.
    ///
    /// An unfinished item whose size or modification time changed loses its stage records and
    /// goes back to pending (a failed one stays failed, with its failures: retrying is the user's
    /// call); a completed or skipped item is kept as it is, with the new size and time.
    public mutating func listed(_ source: SourceItem, at now: Double) -> ListingVerdict {
        guard var record = item else {
            var added = ItemRecord(path: path, size: source.size, modified: source.modified)
            added.updatedAt = now
            setItem(added)
            return .added
        }
        let sizeChanged = record.size.map { $0 != source.size } ?? false
        let timeChanged = record.modified != nil && source.modified != nil && record.modified != source.modified
        var verdict = ListingVerdict.kept
        if record.status != .completed, record.status != .skipped, sizeChanged || timeChanged {
            discardAllStages()
            record.status = record.status == .failed ? .failed : .pending
            record.stage = nil
            verdict = .changed
        }
        record.size = source.size
        record.modified = source.modified
        setItem(record)
        return verdict
    }

    /// Whether listing `source` leaves an item stored with this size and modification time as it
    /// is (`listed` would change nothing): a driver may then skip loading the whole item.
    public static func listingChangesNothing(storedSize: Int64?, storedModified: String?, source: SourceItem) -> Bool {
        storedSize == source.size && storedModified == source.modified
    }

    /// Whether an item of this status may still be worked on (a claim may hand it out).
    public static func awaitsWork(_ status: ItemStatus) -> Bool {
        switch status {
        case .pending, .inProgress, .failed: return true
        case .completed, .skipped: return false
        }
    }

    /// The statuses `pipeline retry` makes eligible again.
    public static func retryableStatuses(includeSkipped: Bool) -> [ItemStatus] {
        includeSkipped ? [.failed, .skipped] : [.failed]
    }

    /// Makes a failed (or, with `includeSkipped`, skipped) item pending again with a clean slate;
    /// returns whether it changed.
    public mutating func retry(includeSkipped: Bool) -> Bool {
        guard var record = item, Self.retryableStatuses(includeSkipped: includeSkipped).contains(record.status) else { return false }
        record.status = .pending
        record.failures = 0
        record.lastError = nil
        record.firstFailed = nil
        record.lastFailed = nil
        record.skipReason = nil
        record.lastCategory = nil
        record.triedRuns = 0
        item = record
        changes.item = true
        return true
    }

    /// Removes the item and its stage records; returns whether it was there.
    public mutating func forget() -> Bool {
        guard item != nil else { return false }
        item = nil
        changes.item = true
        changes.discardsFailures = wasStored
        discardAllStages()
        return true
    }

    /// Replaces the item with an imported record; its stage records are gone (a seed knows none).
    public mutating func imported(_ record: ItemRecord) {
        var record = record
        record.path = path
        item = record
        changes.item = true
        discardAllStages()
    }

    /// Replaces the item and its stage records with another state's copy of them (moving a state
    /// between stores): what is stored becomes exactly `record` and `stages`.
    public mutating func restored(_ record: ItemRecord, stages copied: [String: StageRecord], failures history: [FailureEvidence] = []) {
        var record = record
        record.path = path
        item = record
        changes.item = true
        changes.discardsFailures = wasStored
        changes.failures = history.suffix(FailureEvidence.limit).map { evidence in
            var evidence = evidence
            evidence.path = path
            return evidence
        }
        discardAllStages()
        for (name, var stage) in copied {
            stage.stage = name
            stages[name] = stage
            knownStages.insert(name)
            changes.stages.insert(name)
        }
    }

    // MARK: Bookkeeping

    private mutating func setItem(_ record: ItemRecord) {
        guard record != item else { return }
        item = record
        changes.item = true
    }

    private mutating func setStage(_ record: StageRecord) {
        guard stages[record.stage] != record else { return }
        stages[record.stage] = record
        knownStages.insert(record.stage)
        changes.stages.insert(record.stage)
    }

    private mutating func removeStage(_ name: String) {
        knownStages.insert(name)
        guard stages.removeValue(forKey: name) != nil || !knowsAllStages else { return }
        changes.stages.insert(name)
    }

    private mutating func discardAllStages() {
        stages = [:]
        knownStages = []
        knowsAllStages = true
        changes.stages = []
        changes.discardsAllStages = wasStored
    }
}

extension StateTransition {
    /// The item the transition is about.
    public var path: String {
        switch self {
        case .stageStarted(let path, _, _), .stageProcess(let path, _, _, _), .stageCheckpoint(let path, _, _),
             .stageDone(let path, _, _), .stageAttemptFailed(let path, _, _, _), .stagesReset(let path, _),
             .itemCompleted(let path, _), .itemFailed(let path, _, _, _, _), .itemFailureForgiven(let path), .itemSkipped(let path, _):
            return path
        }
    }
}
