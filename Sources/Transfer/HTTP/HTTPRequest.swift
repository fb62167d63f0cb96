/// One HTTP request, as a value: what `HTTPClient` sends.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable {
        case get = "GET", post = "POST"
    }

    /// Where the body comes from. A file region is streamed from disk as libcurl asks for it, so an
    /// upload of any size costs no more memory than a small one.
    public enum Body: Sendable {
        case empty
        case bytes([UInt8])
        case fileRegion(path: String, offset: Int64, length: Int64)

        public var length: Int64 {
            switch self {
            case .empty: return 0
            case .bytes(let bytes): return Int64(bytes.count)
            case .fileRegion(_, _, let length): return length
            }
        }
    }

    public var method: Method
    public var url: String
    /// In order; a name may repeat.
    public var headers: [(name: String, value: String)]
    public var body: Body
    /// Send on a new connection, closed afterwards. For a request that creates something: on a
    /// kept-alive connection that turns out dead, libcurl silently sends the request again, and
    /// a create must never go twice without the caller knowing.
    public var freshConnection: Bool

    public init(_ method: Method, _ url: String, headers: [(name: String, value: String)] = [], body: Body = .empty,
                freshConnection: Bool = false) {
        self.freshConnection = freshConnection
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// A form-encoded POST (OAuth token requests).
    public static func form(_ url: String, _ fields: [(String, String)]) -> HTTPRequest {
        let text = fields.map { "\(formEncoded($0.0))=\(formEncoded($0.1))" }.joined(separator: "&")
        return HTTPRequest(.post, url, headers: [("Content-Type", "application/x-www-form-urlencoded")], body: .bytes(Array(text.utf8)))
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters percent-encoded.
    public static func formEncoded(_ text: String) -> String { PercentEncoding.unreserved(text.utf8) }
}
