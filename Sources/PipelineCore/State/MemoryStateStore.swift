import Foundation
import Synchronization

/// The reference state driver: everything in memory, kept by the same `ItemLedger` rules.
///
/// For tests that need a state but no file (and as the simplest reading of the `StateStore` and
/// `SharedStateStore` contracts). Several runners share one state through `joined(as:)`, with
/// leases timed by the injected clock, so the orchestrator's shared mode is tested in-process.
/// Nothing survives the process but what `saveCopy` writes to a state file.
public final class MemoryStateStore: SharedStateStore {
    /// The state every runner's store on it shares.
    private final class Storage: Sendable {
        let contents: Mutex<Contents>
        let now: @Sendable () -> Double
        init(_ contents: Contents, now: @escaping @Sendable () -> Double) {
            self.contents = Mutex(contents)
            self.now = now
        }
    }

    private let storage: Storage
    private var now: @Sendable () -> Double { storage.now }
    public let runner: RunnerIdentity
    public var answersAtOnce: Bool { true }
    private let isOpen = Mutex(true)
    /// The fencing tokens of the leases this runner was given, by path.
    private let tokens = Mutex<[String: Int64]>([:])
    /// This runner's run (`beginRun`), which its transitions are recorded under.
    private let run = Mutex<Int64?>(nil)

    /// One item as held: where it was first listed, its record and its stage records.
    private struct Entry {
        var listedOrder: Int
        var item: ItemRecord
        var stages: [String: StageRecord]
        var extra: [String: JSONValue] = [:]
        var generation: Int64 = 0
        var lease: Hold?
        var schedule = ScheduleClass.unscheduled
    }

    /// Who holds a lease or a role, until when.
    private struct Hold {
        var owner: RunnerIdentity
        var token: Int64
        var expiresAt: Double
    }

    private struct Contents {
        var entries: [String: Entry] = [:]
        /// Paths by listed order; a slot whose entry has another order was forgotten (or re-listed later).
        var listed: [String] = []
        var metadata: [String: String] = [:]
        var lastToken: Int64 = 0
        var roles: [String: Hold] = [:]
        var counters: [String: Int] = [:]
        var listing = ListingProgress(generation: 0, complete: false)
        /// Each item's last failures, oldest first.
        var failures: [String: [FailureEvidence]] = [:]
        /// The run history, by number.
        var runs: [Int64: RunRecord] = [:]

        func ledger(_ path: String) -> ItemLedger {
            let entry = entries[path]
            return ItemLedger(path: path, item: entry?.item, stages: entry?.stages ?? [:])
        }

        /// Stores what the rules decided.
        mutating func store(_ ledger: ItemLedger) {
            guard !ledger.changes.isEmpty else { return }
            for write in ledger.writes {
                switch write {
                case .deleteFailures: failures[ledger.path] = nil
                case .withdrawFailures(let run): failures[ledger.path]?.removeAll { $0.run == run }
                case .recordFailure(let evidence): failures[ledger.path, default: []] = (failures[ledger.path, default: []] + [evidence]).suffix(FailureEvidence.limit)
                default: break
                }
            }
            guard let item = ledger.item else {
                entries[ledger.path] = nil
                return
            }
            if var entry = entries[ledger.path] {
                entry.item = item
                entry.stages = ledger.stages
                entries[ledger.path] = entry
            } else {
                entries[ledger.path] = Entry(listedOrder: listed.count, item: item, stages: ledger.stages, generation: listing.generation)
                listed.append(ledger.path)
            }
        }

        /// Whether someone other than `runner` holds a lease on `path` that has not ended.
        func isLeasedElsewhere(_ path: String, runner: RunnerIdentity, now: Double) -> Bool {
            guard let lease = entries[path]?.lease else { return false }
            return lease.owner != runner && lease.expiresAt > now
        }

        mutating func nextToken() -> Int64 {
            lastToken += 1
            return lastToken
        }
    }

    /// An empty state; `now` gives the time transitions are stamped with and leases are timed by
    /// (seconds since 1970).
    public init(now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, runner: RunnerIdentity = RunnerIdentity("memory")) {
        self.storage = Storage(Contents(metadata: ["format": SQLiteStateStore.formatMarker, "schema": SQLiteStateStore.schemaVersion,
                                                   "created_at": UTCTimestamp.now()]), now: now)
        self.runner = runner
    }

    private init(storage: Storage, runner: RunnerIdentity) {
        self.storage = storage
        self.runner = runner
    }

    /// Another runner's store on the same state (as a second process would open the same database).
    public func joined(as runner: RunnerIdentity) -> MemoryStateStore {
        MemoryStateStore(storage: storage, runner: runner)
    }

    private func withContents<T>(_ body: (inout Contents) throws -> T) throws -> T {
        guard isOpen.withLock({ $0 }) else { throw PipelineError(.internalError, "the in-memory state is already closed") }
        return try storage.contents.withLock { contents in
            // A body throws only before it changes anything (the rules decide first), so a failed
            // call changes nothing.
            try body(&contents)
        }
    }

    // MARK: Transitions

    public func commit(_ transitions: [StateTransition]) async throws { try commitSynchronously(transitions) }

    /// Fenced: an item this runner was given a lease on is written only while that lease holds
    /// (same token, not ended); any other item only while no other runner holds a live lease on it.
    public func commitSynchronously(_ transitions: [StateTransition]) throws {
        let now = now()
        let held = tokens.withLock { $0 }
        try withContents { contents in
            let lost = Set(transitions.map(\.path)).filter { path in
                if let token = held[path] {
                    guard let lease = contents.entries[path]?.lease else { return true }
                    return lease.owner != runner || lease.token != token || lease.expiresAt <= now
                }
                return contents.isLeasedElsewhere(path, runner: runner, now: now)
            }
            if !lost.isEmpty { throw LeaseLost(paths: lost.sorted()) }
            var ledgers: [String: ItemLedger] = [:]
            for transition in transitions {
                var ledger = ledgers[transition.path] ?? contents.ledger(transition.path)
                try ledger.apply(transition, at: now, run: run.withLock { $0 })
                ledgers[transition.path] = ledger
            }
            for ledger in ledgers.values { contents.store(ledger) }
        }
    }

    public func recordListing(_ items: [SourceItem]) throws -> ListingChanges {
        try recordListing(items, generation: nil)
    }

    /// Records a listing; items seen are marked as of `generation` (the latest, when nil).
    private func recordListing(_ items: [SourceItem], generation: Int64?) throws -> ListingChanges {
        let now = now()
        return try withContents { contents in
            var changes = ListingChanges()
            let generation = generation ?? contents.listing.generation
            for item in items {
                var ledger = contents.ledger(item.path)
                switch ledger.listed(item, at: now) {
                case .added: changes.added += 1
                case .changed: changes.changed.append(item.path)
                case .kept: break
                }
                contents.store(ledger)
                contents.entries[item.path]?.extra = item.extra
                contents.entries[item.path]?.generation = generation
            }
            return changes
        }
    }

    // MARK: Leases, roles, the listing, shared limits

    public func claimItems(limit: Int, maxFailures: Int, leaseFor duration: TimeSpan, plan: ClaimPlan) throws -> [ClaimedItem] {
        try Self.checkLease(duration)
        guard limit >= 1, maxFailures >= 1 else {
            throw PipelineError(.internalError, "a claim of \(limit) items with max_failures \(maxFailures) (both at least 1)")
        }
        let now = now()
        let claimed = try withContents { contents -> [ClaimedItem] in
            let generation = contents.listing.generation
            let candidates = contents.listed.enumerated().compactMap { order, path -> (ClaimPlan.Candidate, String)? in
                guard let entry = contents.entries[path], entry.listedOrder == order, entry.generation == generation else { return nil }
                guard entry.lease.map({ $0.expiresAt <= now }) ?? true else { return nil }
                switch entry.item.status {
                case .completed, .skipped: return nil
                case .failed where entry.item.hasGivenUp(maxFailures: maxFailures): return nil
                case .inProgress: break
                case .pending, .failed: guard plan.mayStart(window: entry.schedule.window, size: entry.item.size) else { return nil }
                }
                return (ClaimPlan.Candidate(inProgress: entry.item.status == .inProgress, schedule: entry.schedule, failures: entry.item.failures,
                                            size: entry.item.size, modified: entry.item.modified, listedOrder: Int64(order)), path)
            }
            let chosen = candidates.sorted { plan.precedes($0.0, $1.0) }.prefix(limit)
            return chosen.map { _, path in
                let lease = ItemLease(path: path, token: contents.nextToken(), expiresAt: now + duration.seconds)
                contents.entries[path]?.lease = Hold(owner: runner, token: lease.token, expiresAt: lease.expiresAt)
                let entry = contents.entries[path]!
                return ClaimedItem(item: SourceItem(path: path, size: entry.item.size ?? 0, modified: entry.item.modified, extra: entry.extra),
                                   record: entry.item, lease: lease)
            }
        }
        tokens.withLock { tokens in for claim in claimed { tokens[claim.lease.path] = claim.lease.token } }
        return claimed
    }

    public func setScheduleClasses(_ classes: [String: ScheduleClass]) throws {
        try withContents { contents in
            for (path, schedule) in classes where contents.entries[path] != nil { contents.entries[path]?.schedule = schedule }
        }
    }

    public func waitingByWindow(maxFailures: Int) throws -> [Int: Int] {
        try withContents { contents in
            contents.entries.values.reduce(into: [:]) { counts, entry in
                guard entry.schedule.window > 0, entry.generation == contents.listing.generation else { return }
                switch entry.item.status {
                case .pending: counts[entry.schedule.window, default: 0] += 1
                case .failed where !entry.item.hasGivenUp(maxFailures: maxFailures): counts[entry.schedule.window, default: 0] += 1
                default: break
                }
            }
        }
    }

    public func renewLeases(_ paths: [String], for duration: TimeSpan) throws -> [ItemLease] {
        try Self.checkLease(duration)
        let now = now()
        let held = tokens.withLock { $0 }
        let renewed = try withContents { contents in
            paths.compactMap { path -> ItemLease? in
                guard let token = held[path], let lease = contents.entries[path]?.lease,
                      lease.owner == runner, lease.token == token, lease.expiresAt > now else { return nil }
                contents.entries[path]?.lease?.expiresAt = now + duration.seconds
                return ItemLease(path: path, token: token, expiresAt: now + duration.seconds)
            }
        }
        let kept = Set(renewed.map(\.path))
        tokens.withLock { tokens in for path in paths where !kept.contains(path) { tokens[path] = nil } }
        return renewed
    }

    public func releaseLeases(_ paths: [String]) throws {
        let held = tokens.withLock { tokens in paths.compactMap { path in tokens.removeValue(forKey: path).map { (path, $0) } } }
        try withContents { contents in
            for (path, token) in held where contents.entries[path]?.lease?.token == token && contents.entries[path]?.lease?.owner == runner {
                contents.entries[path]?.lease = nil
            }
        }
    }

    public func holdRole(_ role: String, for duration: TimeSpan) throws -> Bool {
        try Self.checkLease(duration)
        let now = now()
        return try withContents { contents in
            if let holder = contents.roles[role], holder.owner != runner, holder.expiresAt > now { return false }
            let token = contents.roles[role].flatMap { $0.owner == runner ? $0.token : nil } ?? contents.nextToken()
            contents.roles[role] = Hold(owner: runner, token: token, expiresAt: now + duration.seconds)
            return true
        }
    }

    public func releaseRole(_ role: String) throws {
        try withContents { contents in
            if contents.roles[role]?.owner == runner { contents.roles[role] = nil }
        }
    }

    public func listingProgress() throws -> ListingProgress {
        try withContents { $0.listing }
    }

    public func beginListing() throws -> Int64 {
        try withContents { contents in
            contents.listing = ListingProgress(generation: contents.listing.generation + 1, complete: false)
            return contents.listing.generation
        }
    }

    public func recordListing(_ items: [SourceItem], generation: Int64) throws -> ListingChanges {
        let latest = try withContents { $0.listing.generation }
        guard (1...max(1, latest)).contains(generation), latest > 0 else {
            throw PipelineError(.internalError, "listing generation \(generation) was never begun (the latest is \(latest))")
        }
        return try recordListing(items, generation: Optional(generation))
    }

    public func finishListing(_ generation: Int64) throws {
        try withContents { contents in
            if contents.listing.generation == generation { contents.listing.complete = true }
        }
    }

    public func spend(_ name: String, period: String, amount: Int, limit: Int) throws -> Bool {
        guard amount >= 0, limit >= 0 else { throw PipelineError(.internalError, "spending \(amount) of a limit of \(limit) (neither may be negative)") }
        return try withContents { contents in
            let key = name + "\u{0}" + period
            let spent = contents.counters[key] ?? 0
            guard spent + amount <= limit else { return false }
            contents.counters[key] = spent + amount
            return true
        }
    }

    /// Leases last from 1 ms to a day: anything else is a mistake.
    static func checkLease(_ duration: TimeSpan) throws {
        guard duration.milliseconds >= 1, duration.milliseconds <= 86_400_000 else {
            throw PipelineError(.internalError, "a lease of \(duration) (1ms…24h)")
        }
    }

    // MARK: Reading

    public func item(_ path: String) throws -> ItemRecord? {
        try withContents { $0.entries[path]?.item }
    }

    public func stageRecords(for path: String) throws -> [String: StageRecord] {
        try withContents { $0.entries[path]?.stages ?? [:] }
    }

    public func allItems() throws -> [ItemRecord] {
        try withContents { contents in
            contents.listed.enumerated().compactMap { order, path in
                contents.entries[path].flatMap { $0.listedOrder == order ? $0.item : nil }
            }
        }
    }

    public func summary(maxFailures: Int) throws -> StateSummary {
        try withContents { contents in
            contents.entries.values.reduce(into: StateSummary()) { $0.count($1.item, maxFailures: maxFailures) }
        }
    }

    // MARK: Maintenance

    public func retry(paths: [String]?, includeSkipped: Bool) throws -> Int {
        try withContents { contents in
            var changed = 0
            for path in paths ?? Array(contents.entries.keys) {
                var ledger = contents.ledger(path)
                guard ledger.retry(includeSkipped: includeSkipped) else { continue }
                contents.store(ledger)
                changed += 1
            }
            return changed
        }
    }

    public func forget(path: String) throws -> Bool {
        try withContents { contents in
            var ledger = contents.ledger(path)
            guard ledger.forget() else { return false }
            contents.store(ledger)
            return true
        }
    }

    public func importItems(_ records: [ItemRecord]) throws {
        try withContents { contents in
            for record in records {
                var ledger = contents.ledger(record.path)
                ledger.imported(record)
                contents.store(ledger)
            }
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try withContents { $0.metadata[key] }
    }

    public func setMetadata(_ changes: [String: String?]) throws {
        try withContents { contents in
            for (key, value) in changes { contents.metadata[key] = value }
        }
    }

    /// A new state file with everything in it, written by `StateCopier` (as for every driver
    /// that is not a file already).
    public func saveCopy(to path: String) throws {
        _ = try withContents { _ in () }
        _ = try StateCopier().copyToNewFile(from: self, path: path)
    }

    // MARK: Moving a state between stores

    /// The position is the slot in `listed`.
    public func itemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage {
        try ItemPage.check(limit)
        return try withContents { contents in
            var items: [(item: StoredItem, position: Int64)] = []
            var slot = cursor.map { Int(clamping: $0.position) + 1 } ?? 0
            while slot < contents.listed.count, items.count < limit {
                if let entry = contents.entries[contents.listed[slot]], entry.listedOrder == slot {
                    items.append((StoredItem(record: entry.item, stages: entry.stages, failures: contents.failures[entry.item.path] ?? []), Int64(slot)))
                }
                slot += 1
            }
            return ItemPage.of(items, limit: limit)
        }
    }

    public func storeItems(_ items: [StoredItem]) throws {
        try withContents { contents in
            for stored in items {
                var ledger = contents.ledger(stored.record.path)
                ledger.restored(stored.record, stages: stored.stages, failures: stored.failures)
                contents.store(ledger)
            }
        }
    }

    public func metadataEntries() throws -> [String: String] {
        try withContents { $0.metadata }
    }

    public func counters() throws -> [StateCounter] {
        try withContents { contents in
            contents.counters.compactMap { key, value in
                let parts = key.split(separator: "\u{0}", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.count == 2 ? StateCounter(name: String(parts[0]), period: String(parts[1]), value: value) : nil
            }
        }
    }

    public func setCounters(_ counters: [StateCounter]) throws {
        try withContents { contents in
            for counter in counters { contents.counters[counter.name + "\u{0}" + counter.period] = counter.value }
        }
    }

    public func removeEverything() throws {
        try withContents { contents in
            contents = Contents(metadata: contents.metadata.filter { StoreMetadataKeys.own.contains($0.key) }, lastToken: contents.lastToken)
        }
        tokens.withLock { $0.removeAll() }
    }

    // MARK: Run history and failures

    public func beginRun(runner: String, startedAt: Double) throws -> Int64 {
        let number = try withContents { contents in
            let number = (contents.runs.keys.max() ?? 0) + 1
            contents.runs[number] = RunRecord(number: number, runner: runner, startedAt: startedAt)
            return number
        }
        run.withLock { $0 = number }
        return number
    }

    public func finishRun(_ record: RunRecord) throws {
        try withContents { contents in
            guard contents.runs[record.number] != nil else { return }
            contents.runs[record.number] = record
        }
    }

    public func runs(limit: Int) throws -> [RunRecord] {
        try withContents { contents in contents.runs.keys.sorted().suffix(max(0, limit)).compactMap { contents.runs[$0] } }
    }

    public func storeRuns(_ records: [RunRecord]) throws {
        try withContents { contents in for record in records { contents.runs[record.number] = record } }
    }

    public func failedItemsByCategory() throws -> [FailureCategory: Int] {
        try withContents { contents in
            contents.entries.values.reduce(into: [:]) { counts, entry in
                if entry.item.status == .failed { counts[entry.item.lastCategory ?? .other, default: 0] += 1 }
            }
        }
    }

    /// The position is the slot in `listed`, as for `itemPage`.
    public func failedItemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage {
        try ItemPage.check(limit)
        return try withContents { contents in
            var items: [(item: StoredItem, position: Int64)] = []
            var slot = cursor.map { Int(clamping: $0.position) + 1 } ?? 0
            while slot < contents.listed.count, items.count < limit {
                if let entry = contents.entries[contents.listed[slot]], entry.listedOrder == slot, entry.item.status == .failed {
                    items.append((StoredItem(record: entry.item, failures: contents.failures[entry.item.path] ?? []), Int64(slot)))
                }
                slot += 1
            }
            return ItemPage.of(items, limit: limit)
        }
    }

    public func liveLeaseCount() throws -> Int {
        let now = now()
        return try withContents { contents in contents.entries.values.count { ($0.lease?.expiresAt ?? -.infinity) > now } }
    }

    public func close() throws {
        isOpen.withLock { $0 = false }
    }
}
