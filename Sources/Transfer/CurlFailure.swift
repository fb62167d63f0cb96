import CCurl

/// A libcurl error with what it means for the transfer: retry (resuming), start over from byte 0,
/// or give up for this run. The message says what happened without credentials.
public struct CurlFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Disposition: Sendable, Equatable {
        /// The connection dropped or stalled: try again, resuming where the file ends.
        case retry
        /// The partial file cannot be continued (the remote is shorter, REST refused): start over.
        case restartFromZero
        /// Retrying will not help in this run (login refused, no such file, local disk).
        case permanent
        /// Our progress callback stopped it (a stop or timeout was requested).
        case aborted
    }

    public var code: Int32
    public var message: String
    /// The last FTP/HTTP reply code, when there was one.
    public var responseCode: Int

    public init(code: Int32, message: String, responseCode: Int = 0) {
        self.code = code
        // libcurl calls every FTP 421 a timeout ("Timeout was reached"); it is the server refusing.
        self.message = responseCode == Self.serviceNotAvailable && CURLcode(rawValue: UInt32(code)) != CURLE_ABORTED_BY_CALLBACK
            ? "the server refused the connection (421: too many connections, or it is shutting down); this is retried, and fewer parallel transfers help"
            : message
        self.responseCode = responseCode
    }

    /// FTP's "421 Service not available, closing control connection" (too many connections).
    static let serviceNotAvailable = 421

    /// The failure is about the one file or folder asked for (gone, not readable), not about the
    /// connection: a listing leaves that entry out and goes on.
    public var concernsOnlyThisPath: Bool {
        switch CURLcode(rawValue: UInt32(code)) {
        case CURLE_REMOTE_FILE_NOT_FOUND, CURLE_REMOTE_ACCESS_DENIED: return responseCode != Self.serviceNotAvailable
        default: return false
        }
    }

    public var disposition: Disposition {
        if responseCode == Self.serviceNotAvailable, CURLcode(rawValue: UInt32(code)) != CURLE_ABORTED_BY_CALLBACK { return .retry }
        switch CURLcode(rawValue: UInt32(code)) {
        case CURLE_PARTIAL_FILE, CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT, CURLE_GOT_NOTHING,
            CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_FTP_WEIRD_PASV_REPLY, CURLE_FTP_ACCEPT_TIMEOUT,
            CURLE_FTP_CANT_GET_HOST, CURLE_COULDNT_RESOLVE_HOST, CURLE_SSL_CONNECT_ERROR, CURLE_FTP_WEIRD_227_FORMAT:
            return .retry
        case CURLE_BAD_DOWNLOAD_RESUME, CURLE_FTP_COULDNT_USE_REST, CURLE_RANGE_ERROR:
            return .restartFromZero
        case CURLE_ABORTED_BY_CALLBACK:
            return .aborted
        case CURLE_FTP_COULDNT_RETR_FILE:
            // A 4xx reply (450 busy, 421 too many users) is transient; 5xx is not.
            return (400..<500).contains(responseCode) ? .retry : .permanent
        default:
            return .permanent
        }
    }

    public var description: String { message }
}
