/// Where a run's workers take their items from: the items claimed from the state (`ClaimedWork`),
/// which one runner or several share.
protocol WorkSupply: Sendable {
    /// The next item to work on; nil when none is left for this runner.
    func next() async -> WorkItem?
    /// Whether `next()` may still hand out items (so a batch may wait for them).
    var mayHaveMore: Bool { get }
    /// The stop signal an item's stages run under: stopped when the run stops, and, for a claimed
    /// item, when its lease is lost.
    func stopSignal(for path: String) -> StopSignal
    /// Makes sure the item is still this runner's before an irreversible step; throws if not.
    func secure(_ path: String) async throws
    /// Runs `body` while no other runner runs the section `name`; blocks the calling thread.
    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T
    /// The item ended, or was left: this runner lets go of it.
    func ended(_ path: String) async
    /// The item failed in this run: this runner keeps it until the run ends, so it is not tried
    /// again in the same run (by this runner or another).
    func failed(_ path: String) async
    /// Stops handing out items; returns how many were taken but not started.
    func drain() -> Int
}
