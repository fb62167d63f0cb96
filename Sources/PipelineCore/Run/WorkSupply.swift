/// Where a run's workers take their items from: the run's own listing (`WorkQueue`), or the
/// items claimed from a state several runners share (`ClaimedWork`).
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
    /// Stops handing out items; returns how many were taken but not started.
    func drain() -> Int
}

extension WorkQueue: WorkSupply where Item == WorkItem {
    var mayHaveMore: Bool { remaining > 0 }
    func stopSignal(for path: String) -> StopSignal { runStop }
    func secure(_ path: String) async throws {}
    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T { try body() }
    func ended(_ path: String) async {}
}
