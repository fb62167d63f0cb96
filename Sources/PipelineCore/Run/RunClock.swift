import Foundation

/// The time a run reads and waits on: the system's in a real run, a test's own (moved by hand) in
/// tests, so backoff, timeouts, the time budget and time windows are tested in milliseconds.
public protocol RunClock: Sendable {
    /// Now on the wall clock: time windows, the quota's day, the run history.
    var date: Date { get }
    /// Now on a monotonic scale: timeouts, backoff, the time budget.
    var instant: ContinuousClock.Instant { get }
    /// Returns once `duration` has passed on this clock; throws `CancellationError` when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The system's clocks.
public struct SystemRunClock: RunClock {
    public init() {}
    public var date: Date { Date() }
    public var instant: ContinuousClock.Instant { .now }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
