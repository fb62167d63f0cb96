import Synchronization

/// A limited allowance that items take in order of arrival: the bytes they may stage in the work
/// directory at once (`disk_budget:`), or a stage's slots (`concurrency:` of a stage).
///
/// An item reserves its share and gives it back when done; one that does not fit waits, in order
/// of arrival. A share larger than the whole allowance is still granted, alone, rather than
/// never. A stop wakes every waiter.
final class FairShare: Sendable {
    private struct Waiter {
        var bytes: Int64
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var reserved: Int64 = 0
        var holders = 0
        var waiting: [Waiter] = []
        var stopped = false
    }

    let limit: Int64
    private let state = Mutex(State())

    /// Told whenever an item starts or stops waiting (who may still start depends on it).
    private let changes: ChangeNotice?

    init(limit: Int64, changes: ChangeNotice? = nil) {
        self.limit = limit
        self.changes = changes
    }

    /// Waits until `bytes` fit; false if the run stopped meanwhile (nothing is then reserved).
    func reserve(_ bytes: Int64) async -> Bool {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool? in
                if state.stopped { return false }
                guard state.waiting.isEmpty, fits(bytes, state) else {
                    state.waiting.append(Waiter(bytes: bytes, continuation: continuation))
                    return nil
                }
                state.reserved += bytes
                state.holders += 1
                return true
            }
            if let resumeNow { continuation.resume(returning: resumeNow) } else { changes?.changed() }
        }
    }

    func release(_ bytes: Int64) {
        let admitted = state.withLock { state -> [Waiter] in
            state.reserved -= bytes
            state.holders -= 1
            var admitted: [Waiter] = []
            while let next = state.waiting.first, fits(next.bytes, state) {
                state.waiting.removeFirst()
                state.reserved += next.bytes
                state.holders += 1
                admitted.append(next)
            }
            return admitted
        }
        for waiter in admitted { waiter.continuation.resume(returning: true) }
        if !admitted.isEmpty { changes?.changed() }
    }

    /// Whether an item waits for its share now (the allowance is taken up).
    var hasWaiters: Bool { state.withLock { !$0.waiting.isEmpty } }

    /// Wakes every waiter with "stopped".
    func stop() {
        let waiting = state.withLock { state -> [Waiter] in
            state.stopped = true
            defer { state.waiting.removeAll() }
            return state.waiting
        }
        for waiter in waiting { waiter.continuation.resume(returning: false) }
    }

    private func fits(_ bytes: Int64, _ state: State) -> Bool {
        state.holders == 0 || state.reserved + bytes <= limit
    }
}
