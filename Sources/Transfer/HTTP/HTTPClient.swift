import CCurl
import Foundation

/// Sends HTTP requests one at a time over a kept-alive connection (one libcurl handle, reused).
///
/// An HTTP error status is a response, not a failure: the caller decides what a 429 or a 503
/// means. A `CurlFailure` means no complete response arrived (refused, dropped, stalled, stopped),
/// and the request may or may not have reached the server.
public final class HTTPClient {
    public struct Options: Sendable {
        public var connectTimeout = 30
        /// A transfer moving fewer than `stallBytesPerSecond` for this many seconds is given up.
        public var stallTimeout = 60
        public var stallBytesPerSecond = 1024
        /// Responses here are small JSON or text; anything bigger is refused rather than buffered.
        public var maxResponseBytes = 8 << 20
        /// A PEM bundle to trust instead of the system's (a local emulator behind TLS).
        public var caFile: String?

        public init() {}
    }

    private let easy: CurlEasy
    public let options: Options

    public init(options: Options = Options()) throws(CurlFailure) {
        self.easy = try CurlEasy()
        self.options = options
    }

    /// Sends `request` and waits for the whole response. `shouldContinue` is asked about once a
    /// second and on every chunk; false aborts (`CURLE_ABORTED_BY_CALLBACK`). `sent` gets the body
    /// bytes handed to libcurl so far.
    public func send(_ request: HTTPRequest, shouldContinue: @escaping () -> Bool = { true },
                     sent: ((Int64) -> Void)? = nil) throws(CurlFailure) -> HTTPResponse {
        // A line break in a header value would start a header of its own (a remote file name can
        // hold one): refused here, whoever built the request.
        // (The same test as PipelineCore's `isASCIIControl`; this module stands below PipelineCore.)
        if let bad = request.headers.first(where: { $0.value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } }) {
            throw CurlFailure(code: Int32(CURLE_BAD_FUNCTION_ARGUMENT.rawValue), message: "the \(bad.name) header holds a control character")
        }
        easy.reset()
        easy.set(CURLOPT_URL, request.url)
        easy.set(CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        if let caFile = options.caFile { easy.set(CURLOPT_CAINFO, caFile) }
        if request.freshConnection {
            easy.set(CURLOPT_FRESH_CONNECT, true)
            easy.set(CURLOPT_FORBID_REUSE, true)
        }
        // No "Expect: 100-continue" round trip; the servers we talk to read or refuse the body.
        easy.set(CURLOPT_HTTPHEADER, list: request.headers.map { "\($0.name): \($0.value)" } + ["Expect:"])

        var source: FileRegionReader?
        switch (request.method, request.body) {
        case (.get, _):
            easy.set(CURLOPT_HTTPGET, true)
        case (.post, .empty):
            easy.setPostBody([])
        case (.post, .bytes(let bytes)):
            easy.setPostBody(bytes)
        case (.post, .fileRegion(let path, let offset, let length)):
            source = try FileRegionReader(path: path, offset: offset, length: length)
            easy.set(CURLOPT_POST, true)
            easy.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: length)
        }

        var status = 0
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var tooLarge = false
        var stall = StallDetector(window: options.stallTimeout, bytesPerSecond: options.stallBytesPerSecond)
        var stalled = false
        let limit = options.maxResponseBytes
        easy.setHandlers(
            data: { bytes in
                guard body.count + bytes.count <= limit else {
                    tooLarge = true
                    return false
                }
                body.append(contentsOf: bytes)
                return true
            },
            header: { line in
                // A new status line (after a 100 Continue or a redirect) starts a new header block.
                if line.hasPrefix("HTTP/") {
                    headers = [:]
                    status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
                } else if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon].lowercased()
                    headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
            },
            read: source.map { reader in
                { buffer in
                    guard shouldContinue() else { return nil }
                    let count = reader.read(into: buffer)
                    if count != nil { sent?(reader.delivered) }
                    return count
                }
            },
            progress: { progress in
                if stall.isStalled(at: progress.uploaded + progress.downloaded) {
                    stalled = true
                    return false
                }
                return shouldContinue()
            }
        )
        do {
            try easy.perform()
        } catch {
            if let failure = source?.failure { throw failure }
            if tooLarge {
                throw CurlFailure(code: Int32(CURLE_FILESIZE_EXCEEDED.rawValue), message: "the response from \(request.url) exceeded \(limit) bytes")
            }
            if stalled {
                throw CurlFailure(code: Int32(CURLE_OPERATION_TIMEDOUT.rawValue),
                                  message: "the request stalled (under \(options.stallBytesPerSecond) bytes/s for \(options.stallTimeout)s)")
            }
            throw error
        }
        return HTTPResponse(status: status == 0 ? easy.responseCode : status, headers: headers, body: body)
    }
}

/// Hands out one region of a file, piece by piece, as libcurl asks for the request body.
private final class FileRegionReader {
    private let descriptor: Int32
    private let path: String
    private var position: Int64
    private let end: Int64
    private(set) var delivered: Int64 = 0
    private(set) var failure: CurlFailure?

    init(path: String, offset: Int64, length: Int64) throws(CurlFailure) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw CurlFailure(code: Int32(CURLE_READ_ERROR.rawValue), message: "cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.position = offset
        self.end = offset + length
    }

    deinit { close(descriptor) }

    /// Bytes placed in `buffer` (0 at the end of the region), nil on a read error.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let wanted = Int(min(Int64(buffer.count), end - position))
        guard wanted > 0 else { return 0 }
        while true {
            let count = pread(descriptor, buffer.baseAddress, wanted, off_t(position))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = count == 0 ? "the file is shorter than expected" : String(cString: strerror(errno))
                failure = CurlFailure(code: Int32(CURLE_READ_ERROR.rawValue), message: "cannot read '\(path)' at byte \(position): \(reason)")
                return nil
            }
            position += Int64(count)
            delivered += Int64(count)
            return count
        }
    }
}
