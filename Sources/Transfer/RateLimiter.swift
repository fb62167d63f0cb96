import Foundation

/// Holds a byte stream to `bytesPerSecond` by making the thread that moves it wait (`rate_limit:`).
///
/// Used for local copies and inside libcurl's write callback: libcurl's own receive limit
/// (MAX_RECV_SPEED) did not hold on fast links here (6 MB in 0.1 s under a 2 MB/s limit, the
/// curl CLI alike). Sleeping in the callback stops reading, and TCP slows the sender.
public struct RateLimiter: Sendable {
    public let bytesPerSecond: Int64
    private let start = DispatchTime.now().uptimeNanoseconds
    private var bytes: Int64 = 0

    public init?(bytesPerSecond: Int64?) {
        guard let bytesPerSecond, bytesPerSecond > 0 else { return nil }
        self.bytesPerSecond = bytesPerSecond
    }

    /// Chunks of about a tenth of a second's worth keep the rate smooth and stops prompt.
    public func chunkSize(atMost limit: Int) -> Int {
        Int(min(Int64(limit), max(16_384, bytesPerSecond / 10)))
    }

    /// Accounts `count` bytes; how long the stream must now wait to be back under the limit
    /// (zero when it is). The caller waits, waking early on a stop (`StopSignal.wait(for:)`).
    public mutating func consumed(_ count: Int) -> Duration {
        bytes += Int64(count)
        let due = Double(bytes) / Double(bytesPerSecond)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return due > elapsed ? .nanoseconds(Int64((due - elapsed) * 1e9)) : .zero
    }
}
