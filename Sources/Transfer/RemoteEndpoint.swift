import CCurl
import Foundation

/// Where and how to reach a remote tree: `ftp://`, `ftps://` (implicit TLS) or `sftp://`, with
/// credentials and TLS settings, and how item paths become URLs.
public struct RemoteEndpoint: Sendable, Equatable {
    /// TLS on an `ftp://` URL.
    public enum Security: String, Sendable, CaseIterable {
        /// Plain FTP.
        case none
        /// Explicit TLS (AUTH TLS), required on the control and the data connection.
        case required
    }

    public var scheme: String
    public var host: String
    public var port: Int?
    /// The path of the URL, with a leading and a trailing `/` (`/` for the login directory).
    public var basePath: String
    public var username: String?
    public var password: String?
    public var security: Security
    public var caFile: String?
    public var insecure: Bool
    /// SFTP: the private key to log in with (its `.pub` beside it is used when present).
    public var sshKey: String?
    /// SFTP: the known_hosts file the server's host key must be in (unless `insecure`).
    public var knownHosts: String?

    public static let schemes = ["ftp", "ftps", "sftp"]

    /// Parses the URL; the message of the error says what is wrong, for a configuration error.
    public init(url: String, username: String?, password: String?, security: Security, caFile: String?, insecure: Bool,
                sshKey: String? = nil, knownHosts: String? = nil) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            Self.schemes.contains(scheme), let host = components.host, !host.isEmpty
        else {
            throw EndpointError("'\(url)' is not an ftp://, ftps:// or sftp:// URL with a host")
        }
        if components.password != nil {
            throw EndpointError("put the password in 'password:' (masked in logs), not in the URL")
        }
        self.scheme = scheme
        self.host = host
        self.port = components.port
        var path = components.percentEncodedPath.removingPercentEncoding ?? components.path
        if !path.hasPrefix("/") { path = "/" + path }
        if !path.hasSuffix("/") { path += "/" }
        self.basePath = path
        self.username = username ?? components.user
        self.password = password
        self.security = security
        self.caFile = caFile
        self.insecure = insecure
        self.sshKey = sshKey
        self.knownHosts = knownHosts
        if scheme == "sftp", !insecure, knownHosts == nil {
            throw EndpointError("sftp:// needs 'known_hosts:' (a file holding the server's host key), or 'insecure: true' for testing")
        }
    }

    public var isSFTP: Bool { scheme == "sftp" }

    /// The URL of a remote path (`/dir/name`), each segment percent-encoded; directories end in `/`.
    public func url(for path: String, directory: Bool = false) -> String {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(Self.encode)
        var url = "\(scheme)://\(host.contains(":") ? "[\(host)]" : host)" + (port.map { ":\($0)" } ?? "")
        url += "/" + segments.joined(separator: "/")
        if directory, !url.hasSuffix("/") { url += "/" }
        return url
    }

    /// What a log line may show: the URL without credentials.
    public var displayName: String {
        "\(scheme)://" + (username.map { "\($0)@" } ?? "") + host + (port.map { ":\($0)" } ?? "") + basePath
    }

    /// A path segment percent-encoded byte by byte: the bytes a `FileNameBytes` text stands for,
    /// so a Latin-1 name listed as `caf\xE9.jpg` is asked for as `caf%E9.jpg`, not as its text.
    static func encode(_ segment: Substring) -> String { PercentEncoding.unreserved(FileNameBytes.bytes(segment)) }

    /// Credentials, TLS and connection behaviour for a handle.
    public func configure(_ easy: CurlEasy) {
        if let username { easy.set(CURLOPT_USERNAME, username) }
        if let password { easy.set(CURLOPT_PASSWORD, password) }
        if scheme == "ftp", security == .required { easy.set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let caFile { easy.set(CURLOPT_CAINFO, caFile) }
        if insecure {
            easy.set(CURLOPT_SSL_VERIFYPEER, false)
            easy.set(CURLOPT_SSL_VERIFYHOST, 0)
            easy.set(CURLOPT_SSH_KNOWNHOSTS, nil as String?)
        }
        if isSFTP {
            if let sshKey {
                easy.set(CURLOPT_SSH_PRIVATE_KEYFILE, sshKey)
                if FileManager.default.fileExists(atPath: sshKey + ".pub") { easy.set(CURLOPT_SSH_PUBLIC_KEYFILE, sshKey + ".pub") }
            }
            if !insecure, let knownHosts { easy.set(CURLOPT_SSH_KNOWNHOSTS, knownHosts) }
        }
        easy.set(CURLOPT_CONNECTTIMEOUT, 30)
        easy.set(CURLOPT_SERVER_RESPONSE_TIMEOUT, 120)
        // EPSV first, PASV when refused; active mode never (it does not cross NAT).
        easy.set(CURLOPT_FTP_USE_EPSV, true)
        easy.set(CURLOPT_TCP_KEEPALIVE, true)
    }
}

public struct EndpointError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
