import Foundation

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
}
