/// How often a stage is tried within one run, and how long to wait between tries.
///
/// Only retryable errors (a dropped connection, exit status 75 from an external stage) are retried;
/// a permanent error fails the item for this run at once.
public struct RetryPolicy: Sendable, Hashable {
    public enum Backoff: Sendable, Hashable {
        /// Waits in order; the last one repeats (the seed's `[30, 60, 120, 300, 600]`).
        case list([TimeSpan])
        /// `initial`, doubling up to `maximum`; with jitter each wait is drawn from [wait/2, wait].
        case exponential(initial: TimeSpan, maximum: TimeSpan, jitter: Bool)
    }

    /// Total tries, the first included.
    public var attempts: Int
    public var backoff: Backoff

    public init(attempts: Int, backoff: Backoff) {
        self.attempts = max(1, attempts)
        self.backoff = backoff
    }

    public static let `default` = RetryPolicy(
        attempts: 3,
        backoff: .exponential(initial: TimeSpan(milliseconds: 5000), maximum: TimeSpan(milliseconds: 300_000), jitter: true)
    )

    /// The wait before try number `attempt + 1`, after try `attempt` (1-based) failed.
    public func delay(afterAttempt attempt: Int, using random: inout some RandomNumberGenerator) -> TimeSpan {
        switch backoff {
        case .list(let waits):
            guard let last = waits.last else { return TimeSpan(milliseconds: 0) }
            return attempt - 1 < waits.count ? waits[attempt - 1] : last
        case .exponential(let initial, let maximum, let jitter):
            let exponent = min(attempt - 1, 30)
            let doubled = initial.milliseconds.multipliedReportingOverflow(by: 1 << exponent)
            let full = max(0, min(doubled.overflow ? maximum.milliseconds : doubled.partialValue, maximum.milliseconds))
            guard jitter, full > 1 else { return TimeSpan(milliseconds: full) }
            return TimeSpan(milliseconds: Int64.random(in: (full / 2)...full, using: &random))
        }
    }
}
