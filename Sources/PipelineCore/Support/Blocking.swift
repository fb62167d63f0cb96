import Dispatch

/// Runs blocking work (file copies, hashing, waiting for a child process) on a thread of its own.
///
/// Swift's cooperative pool has one thread per core, two here; a blocking call on it would stall
/// every other item, the progress display and signal handling.
public enum Blocking {
    private static let queue = DispatchQueue(label: "pipeline.blocking", attributes: .concurrent)

    public static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
