import Foundation
import PipelineCore

/// Holds a byte stream to `bytesPerSecond` by sleeping the copying thread (the `rate_limit` option).
struct Throttle {
    let bytesPerSecond: Int64
    private let start = DispatchTime.now().uptimeNanoseconds
    private var bytes: Int64 = 0

    init?(_ limit: ByteSize?) {
        guard let limit, limit.bytes > 0 else { return nil }
        bytesPerSecond = limit.bytes
    }

    /// Accounts `count` bytes and sleeps until the stream is back under the limit.
    mutating func consumed(_ count: Int) {
        bytes += Int64(count)
        let due = Double(bytes) / Double(bytesPerSecond)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if due > elapsed { usleep(UInt32(min((due - elapsed) * 1e6, 1e6))) }
    }
}
