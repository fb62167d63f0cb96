import Foundation
import PipelineCore
import Transfer

/// Streams bytes from one file to another (or to a digest) in fixed-size chunks: memory stays
/// flat whatever the file size, the stop signal is checked between chunks, and progress is
/// reported as the overall byte position, resumed part included.
struct StreamingCopy {
    static let chunkSize = 1 << 20

    var stop: StopSignal
    var throttle: RateLimiter?
    var progress: (Int64) -> Void

    init(stop: StopSignal, throttle: RateLimiter?, progress: @escaping (Int64) -> Void) {
        self.stop = stop
        self.throttle = throttle
        self.progress = progress
    }

    /// A copy for a stage attempt: its stop signal, its `rate_limit`, progress reported against `total`.
    init(context: StageContext, rateLimit: ByteSize?, total: Int64) {
        self.init(stop: context.stop, throttle: RateLimiter(bytesPerSecond: rateLimit?.bytes)) { position in
            context.progress(bytes: position, total: total)
        }
    }

    /// Reads `source` from `offset` to its end, handing each chunk to `consume`; returns the bytes read.
    func stream(from source: FileStream, startingAt offset: Int64,
                _ consume: (UnsafeRawBufferPointer) throws(StageFailure) -> Void) throws(StageFailure) -> Int64 {
        var throttle = self.throttle
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: throttle?.chunkSize(atMost: Self.chunkSize) ?? Self.chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var position = offset
        while true {
            try stop.check()
            let count = try source.read(into: buffer, at: position)
            if count == 0 { break }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            position += Int64(count)
            progress(position)
            if let wait = throttle?.consumed(count), wait > .zero { _ = stop.wait(for: wait) }
        }
        return position - offset
    }

    /// Appends `source` (from where `destination` ends) to the file at `destination`; returns the
    /// offset it resumed at and the bytes copied.
    func resume(from source: FileStream, into destination: String) throws(StageFailure) -> (resumedAt: Int64, copied: Int64) {
        let resumedAt = FileStream.size(of: destination) ?? 0
        let output = try FileStream(path: destination, mode: .append)
        let copied = try stream(from: source, startingAt: resumedAt) { (bytes) throws(StageFailure) in try output.write(bytes) }
        return (resumedAt, copied)
    }

    /// Whether two files have the same bytes (compared in chunks).
    static func sameContent(_ left: FileStream, _ right: FileStream, stop: StopSignal) throws(StageFailure) -> Bool {
        let size = Int64(try left.status().st_size)
        guard size == Int64(try right.status().st_size) else { return false }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        let other = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer {
            buffer.deallocate()
            other.deallocate()
        }
        var position: Int64 = 0
        while position < size {
            try stop.check()
            let count = try left.read(into: buffer, at: position)
            guard count > 0, try right.read(into: other, at: position) == count,
                memcmp(buffer.baseAddress!, other.baseAddress!, count) == 0
            else { return false }
            position += Int64(count)
        }
        return true
    }
}
