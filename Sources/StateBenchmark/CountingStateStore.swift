import PipelineCore
import Synchronization

/// A shared state that counts what is asked of it, passing every call on to the store it wraps:
/// how many commits (and transitions in them), claims (and items claimed), renewals and releases
/// a runner made, so the benchmark reports rates of each rather than guessing them from the items.
final class CountingStateStore: SharedStateStore {
    /// What a runner asked of the state, by kind of call.
    struct Counts: Sendable {
        var commits = 0
        var transitions = 0
        var claims = 0
        var claimedItems = 0
        var renewals = 0
        var releases = 0
        var listingBatches = 0

        var fields: [String: JSONValue] {
            ["commits": .number(Double(commits)), "transitions": .number(Double(transitions)), "claims": .number(Double(claims)),
             "claimed_items": .number(Double(claimedItems)), "renewals": .number(Double(renewals)), "releases": .number(Double(releases)),
             "listing_batches": .number(Double(listingBatches))]
        }
    }

    let inner: any SharedStateStore
    private let tally = Mutex(Counts())

    init(_ inner: any SharedStateStore) { self.inner = inner }

    var counts: Counts { tally.withLock { $0 } }
    var runner: RunnerIdentity { inner.runner }
    var answersAtOnce: Bool { inner.answersAtOnce }

    private func count(_ change: (inout Counts) -> Void) { tally.withLock { change(&$0) } }

    // MARK: Counted

    func commit(_ transitions: [StateTransition]) async throws {
        try await inner.commit(transitions)
        count { $0.commits += 1; $0.transitions += transitions.count }
    }

    func commitSynchronously(_ transitions: [StateTransition]) throws {
        try inner.commitSynchronously(transitions)
        count { $0.commits += 1; $0.transitions += transitions.count }
    }

    func claimItems(limit: Int, maxFailures: Int, leaseFor duration: TimeSpan, plan: ClaimPlan) throws -> [ClaimedItem] {
        let claimed = try inner.claimItems(limit: limit, maxFailures: maxFailures, leaseFor: duration, plan: plan)
        count { $0.claims += 1; $0.claimedItems += claimed.count }
        return claimed
    }

    func setScheduleClasses(_ classes: [String: ScheduleClass]) throws { try inner.setScheduleClasses(classes) }
    func waitingByWindow(maxFailures: Int) throws -> [Int: Int] { try inner.waitingByWindow(maxFailures: maxFailures) }

    func renewLeases(_ paths: [String], for duration: TimeSpan) throws -> [ItemLease] {
        count { $0.renewals += 1 }
        return try inner.renewLeases(paths, for: duration)
    }

    func releaseLeases(_ paths: [String]) throws {
        count { $0.releases += 1 }
        try inner.releaseLeases(paths)
    }

    func recordListing(_ items: [SourceItem], generation: Int64) throws -> ListingChanges {
        count { $0.listingBatches += 1 }
        return try inner.recordListing(items, generation: generation)
    }

    // MARK: Passed on

    func recordListing(_ items: [SourceItem]) throws -> ListingChanges { try inner.recordListing(items) }
    func item(_ path: String) throws -> ItemRecord? { try inner.item(path) }
    func stageRecords(for path: String) throws -> [String: StageRecord] { try inner.stageRecords(for: path) }
    func allItems() throws -> [ItemRecord] { try inner.allItems() }
    func summary(maxFailures: Int) throws -> StateSummary { try inner.summary(maxFailures: maxFailures) }
    func givenUpItems(maxFailures: Int, limit: Int) throws -> [ItemRecord] { try inner.givenUpItems(maxFailures: maxFailures, limit: limit) }
    func unfinishedSizes(maxFailures: Int, after cursor: SizePage.Cursor?, limit: Int) throws -> SizePage {
        try inner.unfinishedSizes(maxFailures: maxFailures, after: cursor, limit: limit)
    }
    func retry(paths: [String]?, includeSkipped: Bool) throws -> Int { try inner.retry(paths: paths, includeSkipped: includeSkipped) }
    func forget(path: String) throws -> Bool { try inner.forget(path: path) }
    func importItems(_ records: [ItemRecord]) throws { try inner.importItems(records) }
    func metadata(_ key: String) throws -> String? { try inner.metadata(key) }
    func setMetadata(_ changes: [String: String?]) throws { try inner.setMetadata(changes) }
    func spend(_ name: String, period: String, amount: Int, limit: Int) throws -> Bool {
        try inner.spend(name, period: period, amount: amount, limit: limit)
    }
    func saveCopy(to path: String) throws { try inner.saveCopy(to: path) }
    func close() throws { try inner.close() }
    func holdRole(_ role: String, for duration: TimeSpan) throws -> Bool { try inner.holdRole(role, for: duration) }
    func releaseRole(_ role: String) throws { try inner.releaseRole(role) }
    func listingProgress() throws -> ListingProgress { try inner.listingProgress() }
    func beginListing() throws -> Int64 { try inner.beginListing() }
    func finishListing(_ generation: Int64) throws { try inner.finishListing(generation) }
    func itemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage { try inner.itemPage(after: cursor, limit: limit) }
    func storeItems(_ items: [StoredItem]) throws { try inner.storeItems(items) }
    func metadataEntries() throws -> [String: String] { try inner.metadataEntries() }
    func counters() throws -> [StateCounter] { try inner.counters() }
    func setCounters(_ counters: [StateCounter]) throws { try inner.setCounters(counters) }
    func removeEverything() throws { try inner.removeEverything() }
    func liveLeaseCount() throws -> Int { try inner.liveLeaseCount() }
    func beginRun(runner: String, startedAt: Double) throws -> Int64 { try inner.beginRun(runner: runner, startedAt: startedAt) }
    func finishRun(_ record: RunRecord) throws { try inner.finishRun(record) }
    func runs(limit: Int) throws -> [RunRecord] { try inner.runs(limit: limit) }
    func storeRuns(_ records: [RunRecord]) throws { try inner.storeRuns(records) }
    func failedItemsByCategory() throws -> [FailureCategory: Int] { try inner.failedItemsByCategory() }
    func failedItemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage { try inner.failedItemPage(after: cursor, limit: limit) }
}
