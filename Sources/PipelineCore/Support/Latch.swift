import Foundation
import Synchronization

/// A gate that opens once and stays open, awaited by tasks (`opened()`) and by blocking threads
/// (`wait(for:)`) alike: whoever waits is woken when it opens, not by looking again and again.
public final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var tasks: [Int: CheckedContinuation<Void, Never>] = [:]
        var threads: [Int: DispatchSemaphore] = [:]
        /// Task waits cancelled before their continuation was stored.
        var cancelled: Set<Int> = []
        var nextID = 0

        mutating func newID() -> Int {
            nextID += 1
            return nextID
        }
    }

    private let state = Mutex(State())

    public init() {}

    public var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Opens the gate and wakes every waiter; false when it was open already.
    @discardableResult
    public func open() -> Bool {
        let woken = state.withLock { state -> (tasks: [CheckedContinuation<Void, Never>], threads: [DispatchSemaphore])? in
            guard !state.isOpen else { return nil }
            state.isOpen = true
            defer { state.tasks = [:]; state.threads = [:] }
            return (Array(state.tasks.values), Array(state.threads.values))
        }
        guard let woken else { return false }
        for task in woken.tasks { task.resume() }
        for thread in woken.threads { thread.signal() }
        return true
    }

    /// Returns once the gate is open, or at once when the task is cancelled.
    public func opened() async {
        let id = state.withLock { $0.newID() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.isOpen || state.cancelled.remove(id) != nil { return true }
                    state.tasks[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let waiting = state.tasks.removeValue(forKey: id) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return waiting
            }
            waiting?.resume()
        }
    }

    /// Whether the gate opened within `duration` on `clock` (false also when the task is cancelled).
    public func opened(within duration: Duration, on clock: any RunClock) async -> Bool {
        if isOpen { return true }
        return await Race.first {
            await self.opened()
            return true
        } or: {
            do {
                try await clock.sleep(for: duration)
            } catch {
                return false
            }
            return self.isOpen
        }
    }

    /// Blocks the calling thread (never a task's: use `opened()` there) until the gate opens or
    /// `duration` passes; whether it is open.
    @discardableResult
    public func wait(for duration: Duration) -> Bool {
        let semaphore = DispatchSemaphore(value: 0)
        let id = state.withLock { state -> Int? in
            guard !state.isOpen else { return nil }
            let id = state.newID()
            state.threads[id] = semaphore
            return id
        }
        guard let id else { return true }
        // Clamped to a century: a longer wait is as good as forever, and must not overflow.
        let seconds = min(max(0, duration.components.seconds), 100 * 365 * 86_400)
        let nanoseconds = seconds * 1_000_000_000 + max(0, duration.components.attoseconds) / 1_000_000_000
        if semaphore.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds))) == .success { return true }
        let stillWaiting = state.withLock { $0.threads.removeValue(forKey: id) != nil }
        // Opened between the timeout and the lock: the signal it sent is taken, so none is left over.
        if !stillWaiting { semaphore.wait() }
        return isOpen
    }
}
