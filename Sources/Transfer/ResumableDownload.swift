import CCurl
import CFileSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Downloads one remote file into a partial file, continuing from the partial file's size.
///
/// libcurl hands over at most 16 KiB per callback; writing each piece would cost ~65,000 `write`
/// calls per GiB, so pieces are gathered into large writes. The file's blocks are reserved up
/// front (`fallocate` with KEEP_SIZE: the size still grows only as bytes land, so "resume at the
/// file's size" stays true after a kill). Memory stays at one buffer whatever the file size.
public struct ResumableDownload: Sendable {
    public struct Options: Sendable {
        /// Fail when fewer than `stallBytesPerSecond` arrive for this long.
        public var stallTimeout: Int = 60
        public var stallBytesPerSecond: Int = 1024
        /// Bytes per second at most; nil for no limit.
        public var rateLimit: Int64?
        /// Bytes gathered before one `write`.
        public var writeBufferSize: Int = 4 << 20
        /// libcurl's receive buffer.
        public var receiveBufferSize: Int = 512 << 10

        public init() {}
    }

    public struct Outcome: Sendable, Equatable {
        /// Where this attempt started in the file.
        public var resumedAt: Int64
        /// Bytes written by this attempt.
        public var received: Int64
    }

    public let endpoint: RemoteEndpoint
    public let remotePath: String
    public let partialPath: String
    public let expectedSize: Int64
    public let options: Options

    public init(endpoint: RemoteEndpoint, remotePath: String, partialPath: String, expectedSize: Int64, options: Options = Options()) {
        self.endpoint = endpoint
        self.remotePath = remotePath
        self.partialPath = partialPath
        self.expectedSize = expectedSize
        self.options = options
    }

    /// Runs one attempt. `progress` gets the overall position (resumed part included) and returns
    /// false to abort; a partial file the remote cannot continue is started over once, in place.
    /// `probe`'s connection is used when given (one login for the questions and the download).
    /// `pause` waits as long as `rate_limit` asks, returning early when the download must stop.
    public func run(on probe: RemoteFileProbe? = nil, pause: @escaping (Duration) -> Void,
                    progress: @escaping (Int64) -> Bool) throws(CurlFailure) -> Outcome {
        do {
            return try attempt(on: probe, pause: pause, progress: progress)
        } catch where error.disposition == .restartFromZero {
            unlink(partialPath)
            return try attempt(on: probe, pause: pause, progress: progress)
        }
    }

    private func attempt(on probe: RemoteFileProbe?, pause: @escaping (Duration) -> Void,
                         progress: @escaping (Int64) -> Bool) throws(CurlFailure) -> Outcome {
        var existing = stat()
        var offset: Int64 = stat(partialPath, &existing) == 0 ? Int64(existing.st_size) : 0
        if offset > expectedSize {
            unlink(partialPath)
            offset = 0
        }
        let descriptor = PartialFile.openForWriting(partialPath, flags: O_WRONLY | O_CREAT | O_APPEND)
        guard descriptor >= 0 else { throw Self.localFailure("open", partialPath) }
        defer { close(descriptor) }
        if expectedSize > offset {
            _ = cfs_reserve_keeping_size(descriptor, off_t(offset), off_t(expectedSize - offset))
        }

        let writer = CoalescingWriter(descriptor: descriptor, capacity: options.writeBufferSize)
        let easy: CurlEasy
        if let probe { easy = probe.easy } else { easy = try CurlEasy() }
        endpoint.configure(easy)
        easy.set(CURLOPT_NOBODY, false)
        easy.set(CURLOPT_FILETIME, false)
        easy.set(CURLOPT_URL, endpoint.url(for: remotePath))
        easy.set(CURLOPT_RESUME_FROM_LARGE, offset: offset)
        easy.set(CURLOPT_BUFFERSIZE, options.receiveBufferSize)
        // libcurl's own check stays as a backstop; the detector below is the one that answers in time.
        easy.set(CURLOPT_LOW_SPEED_LIMIT, options.stallBytesPerSecond)
        easy.set(CURLOPT_LOW_SPEED_TIME, options.stallTimeout * 3)
        var stall = StallDetector(window: options.stallTimeout, bytesPerSecond: options.stallBytesPerSecond)
        var stalled = false
        var limiter = RateLimiter(bytesPerSecond: options.rateLimit)
        easy.setHandlers(
            data: { bytes in
                if let wait = limiter?.consumed(bytes.count), wait > .zero {
                    pause(wait)
                    // A rate-limited download spends its time here, where libcurl does not call
                    // `progress:`: report the position (a stop is seen by `pause` and the next call).
                    _ = progress(offset + writer.written + Int64(writer.pending))
                }
                return writer.append(bytes)
            },
            progress: { _ in
                let position = offset + writer.written + Int64(writer.pending)
                if stall.isStalled(at: position) {
                    stalled = true
                    return false
                }
                return progress(position)
            }
        )
        do {
            try easy.perform()
        } catch {
            writer.flush()
            if let failure = writer.failure { throw failure }
            if stalled {
                throw CurlFailure(code: Int32(CURLE_OPERATION_TIMEDOUT.rawValue),
                                  message: "the transfer stalled (under \(options.stallBytesPerSecond) bytes/s for \(options.stallTimeout)s)")
            }
            throw error
        }
        writer.flush()
        if let failure = writer.failure { throw failure }
        return Outcome(resumedAt: offset, received: writer.written)
    }

    static func localFailure(_ operation: String, _ path: String) -> CurlFailure {
        CurlFailure(code: Int32(CURLE_WRITE_ERROR.rawValue), message: "cannot \(operation) '\(path)': \(String(cString: strerror(errno)))")
    }
}

/// Gathers received pieces and writes them in large blocks: when the buffer is full, or half a
/// second after the last write, so a slow link loses at most half a second of data to a kill.
private final class CoalescingWriter {
    private static let flushInterval: UInt64 = 500_000_000
    private var lastFlush = DispatchTime.now().uptimeNanoseconds
    private let descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private(set) var pending = 0
    private(set) var written: Int64 = 0
    private(set) var failure: CurlFailure?

    init(descriptor: Int32, capacity: Int) {
        self.descriptor = descriptor
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 4096)
    }

    deinit { buffer.deallocate() }

    /// False tells libcurl to stop (a write error).
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if pending + bytes.count > buffer.count { flush() }
        guard failure == nil else { return false }
        if bytes.count > buffer.count { return writeAll(bytes) }
        buffer.baseAddress!.advanced(by: pending).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        pending += bytes.count
        if DispatchTime.now().uptimeNanoseconds - lastFlush > Self.flushInterval { flush() }
        return failure == nil
    }

    func flush() {
        lastFlush = DispatchTime.now().uptimeNanoseconds
        guard pending > 0, failure == nil else { return }
        _ = writeAll(UnsafeRawBufferPointer(rebasing: buffer[0..<pending]))
        pending = 0
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                failure = CurlFailure(code: Int32(CURLE_WRITE_ERROR.rawValue), message: "cannot write the download: \(String(cString: strerror(errno)))")
                return false
            }
            done += count
            written += Int64(count)
        }
        return true
    }
}
