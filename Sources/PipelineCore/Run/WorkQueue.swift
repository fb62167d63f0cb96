import Synchronization

/// The items of a run not started yet, handed out one at a time, in order.
final class WorkQueue<Item: Sendable>: Sendable {
    private let state = Mutex<(items: [Item], next: Int)>(([], 0))
    /// The run's stop signal: items of a run's own listing stop only with the run.
    let runStop: StopSignal

    init(runStop: StopSignal = StopSignal()) { self.runStop = runStop }

    func load(_ items: [Item]) { state.withLock { $0 = (items, 0) } }

    func next() -> Item? {
        state.withLock { state in
            guard state.next < state.items.count else { return nil }
            defer { state.next += 1 }
            return state.items[state.next]
        }
    }

    var remaining: Int { state.withLock { $0.items.count - $0.next } }

    /// Empties the queue; returns how many items were left in it.
    func drain() -> Int {
        state.withLock { state in
            defer { state = ([], 0) }
            return state.items.count - state.next
        }
    }
}
