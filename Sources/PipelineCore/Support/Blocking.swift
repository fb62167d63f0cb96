import Foundation
import Synchronization

/// Runs blocking work (file copies, hashing, reading a child's output) on a thread of its own.
///
/// Not on Dispatch: on Linux the Swift executor and Dispatch's global queues draw from the same
/// pool of about one thread per core (two here). Two copies blocking there held back every
/// timer, signal and progress update until they finished — a time budget fired a second late.
public enum Blocking {
    public static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try work() })
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs async work from a blocking thread (one of `run`'s, never a task of the async world,
    /// whose few threads it would hold) and waits for its result: a step that must happen between
    /// two blocking ones, such as renewing leases right before a request goes.
    public static func wait<Value: Sendable>(_ work: @escaping @Sendable () async throws -> Value) throws -> Value {
        let done = DispatchSemaphore(value: 0)
        let outcome = AwaitedOutcome<Value>()
        Task {
            let result: Result<Value, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.slot.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.slot.withLock { $0! }.get()
    }
}

/// Where `Blocking.wait`'s task leaves its result for the waiting thread.
private final class AwaitedOutcome<Value: Sendable>: Sendable {
    let slot = Mutex<Result<Value, any Error>?>(nil)
}
