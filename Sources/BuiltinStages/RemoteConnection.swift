import Foundation
import PipelineCore
import Transfer

/// Reads the connection parameters shared by the remote stages (`url`, `username`, `password`,
/// `tls`, `ca_file`, `insecure`), taking what a stage leaves out from the source's, so a fetch
/// stage needs no settings of its own.
enum RemoteConnection {
    static let parameters: [StageDescriptor.Parameter] = [
        .init("url", "ftp://host:port/path/, ftps://… (implicit TLS) or sftp://… (default for fetch: the source's)"),
        .init("username", "login name (default: anonymous)"),
        .init("password", "login password; use ${VAR}, it is masked everywhere"),
        .init("tls", "none (default) or required: explicit TLS on control and data for ftp://"),
        .init("ca_file", "PEM file of the certificate authority (or self-signed certificate) to trust"),
        .init("insecure", "true to accept any certificate or SSH host key (testing only)"),
        .init("ssh_key", "sftp://: the private key file to log in with"),
        .init("known_hosts", "sftp://: the known_hosts file holding the server's host key"),
    ]

    static func endpoint(_ setup: StageSetup, inheriting: Bool) throws -> RemoteEndpoint {
        func value(_ key: String) -> JSONValue? {
            setup.parameters[key] ?? (inheriting ? setup.sourceParameters[key] : nil)
        }
        guard let url = value("url")?.stringValue, !url.isEmpty else {
            throw setup.location.error("stage '\(setup.stageName)' needs 'with: { url: ftp://host/path/ }'"
                                       + (inheriting ? " (the source has none to default to)" : ""))
        }
        let tlsText = value("tls")?.stringValue ?? "none"
        guard let security = RemoteEndpoint.Security(rawValue: tlsText) else {
            throw setup.location.error(NameSuggester.unknown("tls mode", tlsText, valid: RemoteEndpoint.Security.allCases.map(\.rawValue)))
        }
        func path(_ key: String) -> String? {
            value(key)?.stringValue.map { PathResolver.absolute($0, relativeTo: setup.baseDirectory) }
        }
        do {
            return try RemoteEndpoint(url: url, username: value("username")?.stringValue, password: value("password")?.stringValue,
                                      security: security, caFile: path("ca_file"), insecure: value("insecure")?.boolValue ?? false,
                                      sshKey: path("ssh_key"), knownHosts: path("known_hosts"))
        } catch {
            throw setup.location.error("stage '\(setup.stageName)': \(error)")
        }
    }

    /// A libcurl failure as a stage failure, worded for the user; never includes the password.
    static func failure(_ error: CurlFailure, endpoint: RemoteEndpoint, path: String?, stop: StopSignal) -> StageFailure {
        var failure = uncategorised(error, endpoint: endpoint, path: path, stop: stop)
        if failure.kind != .interrupted { failure.category = failure.category ?? category(of: error) }
        return failure
    }

    /// What a libcurl failure means for `pipeline failures`, from its CURLcode and the last reply.
    static func category(of error: CurlFailure) -> FailureCategory {
        if error.responseCode == 421 { return .network }
        switch error.code {
        case 5, 6, 7, 8, 13, 14, 15, 18, 52, 55, 56: return .network
        case 12, 28: return .timeout
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91: return .tls
        case 67, 94: return .authentication
        case 78: return .remoteMissing
        case 9: return .permission
        case 19:
            // RETR refused: 550 is "no such file" (or not readable); a 4xx reply is the server's own trouble.
            return error.responseCode == 550 ? .remoteMissing : (400..<500).contains(error.responseCode) ? .serverError : .other
        case 23: return FailureClassifier.category(of: error.message) == .diskFull ? .diskFull : .other
        default: return FailureClassifier.category(of: error.message)
        }
    }

    private static func uncategorised(_ error: CurlFailure, endpoint: RemoteEndpoint, path: String?, stop: StopSignal) -> StageFailure {
        switch error.disposition {
        case .aborted:
            return stop.failure ?? .interrupted
        case .retry, .restartFromZero:
            return .retryable("\(endpoint.displayName): \(error.message)")
        case .permanent:
            switch error.code {
            case 67:
                return .permanent("login to \(endpoint.displayName) as '\(endpoint.username ?? "anonymous")' was refused (\(error.responseCode)): check the username and password")
            case 78, 9:
                return .permanent("'\(path ?? "")' is not on \(endpoint.displayName) or not readable (\(error.responseCode)): \(error.message)")
            case 51, 60, 58, 77, 83:
                return endpoint.isSFTP
                    ? .permanent("\(endpoint.displayName): the server's host key is not in 'known_hosts' (\(error.message)); add it, or set 'insecure: true' for testing")
                    : .permanent("\(endpoint.displayName): the server's certificate is not trusted (\(error.message)); set 'ca_file', or 'insecure: true' for testing")
            case 64:
                return .permanent("\(endpoint.displayName) does not offer TLS, which 'tls: required' demands")
            case 23:
                return .permanent("writing the download failed (is the disk full?): \(error.message)")
            case 3 where (path ?? "").unicodeScalars.contains(where: \.isASCIIControl):
                // libcurl refuses control characters in FTP paths (they could smuggle commands).
                return .permanent("'\(path ?? "")' has a control character in its name, which libcurl will not send to an FTP server; fetch such items with the rclone-fetch stage")
            default:
                return .permanent("\(endpoint.displayName): \(error.message)")
            }
        }
    }
}
