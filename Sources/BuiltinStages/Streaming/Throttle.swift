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

    /// Chunks of about a tenth of a second's worth keep the rate smooth and stops prompt.
    var chunkSize: Int { Int(min(Int64(StreamingCopy.chunkSize), max(16_384, bytesPerSecond / 10))) }

    /// Accounts `count` bytes and sleeps until the stream is back under the limit, in short
    /// slices so a stop is noticed within 50 ms.
    mutating func consumed(_ count: Int, stop: StopSignal) {
        bytes += Int64(count)
        let due = Double(bytes) / Double(bytesPerSecond)
        while !stop.isStopped {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard due > elapsed else { return }
            usleep(UInt32(min(due - elapsed, 0.05) * 1e6))
        }
    }
}
