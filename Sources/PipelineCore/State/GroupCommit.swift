import Synchronization

/// One store's commits, merged: those that arrive while a transaction runs wait, and go together
/// in the next one, so the items a runner has in flight cost about one transaction, not one each.
///
/// The first caller leads: it commits its own transitions, then whatever queued meanwhile, until
/// nothing waits. If a merged batch fails (a lease lost, a transition the rules refuse, a dropped
/// connection), each caller's transitions are committed alone, so a failure is only its own
/// caller's. `perform` runs each commit where the store wants it: on a thread of its own for a
/// store that waits on a server (`Blocking.run`).
final class GroupCommit: Sendable {
    typealias Commit = @Sendable ([StateTransition]) throws -> Void
    typealias Perform = @Sendable (@escaping @Sendable () throws -> Void) async throws -> Void

    private struct Waiting {
        var transitions: [StateTransition]
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var draining = false

        /// Becomes the leader unless one is draining.
        mutating func lead() -> Bool {
            if draining { return false }
            draining = true
            return true
        }
    }

    private let queue = Mutex(Queue())

    /// Commits `transitions` with `commitNow`, merged with other callers' (see the type).
    func commit(_ transitions: [StateTransition], perform: @escaping Perform, _ commitNow: @escaping Commit) async throws {
        if queue.withLock({ $0.lead() }) {
            let own: Result<Void, any Error>
            do {
                try await perform { try commitNow(transitions) }
                own = .success(())
            } catch {
                own = .failure(error)
            }
            await drain(perform: perform, commitNow)
            try own.get()
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let leads = queue.withLock { queue -> Bool in
                if queue.lead() { return true }
                queue.waiting.append(Waiting(transitions: transitions, continuation: continuation))
                return false
            }
            guard leads else { return }
            // The leader finished between the first look and this one: this caller leads.
            Task {
                do {
                    try await perform { try commitNow(transitions) }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
                await self.drain(perform: perform, commitNow)
            }
        }
    }

    /// Commits what queued up, a batch at a time, until nothing waits; then no one leads.
    private func drain(perform: Perform, _ commitNow: @escaping Commit) async {
        while true {
            let batch = queue.withLock { queue -> [Waiting] in
                defer { queue.waiting.removeAll(keepingCapacity: true) }
                if queue.waiting.isEmpty { queue.draining = false }
                return queue.waiting
            }
            if batch.isEmpty { return }
            let all = batch.flatMap(\.transitions)
            do {
                try await perform { try commitNow(all) }
                for entry in batch { entry.continuation.resume() }
            } catch {
                for entry in batch {
                    let transitions = entry.transitions
                    do {
                        try await perform { try commitNow(transitions) }
                        entry.continuation.resume()
                    } catch {
                        entry.continuation.resume(throwing: error)
                    }
                }
            }
        }
    }
}
