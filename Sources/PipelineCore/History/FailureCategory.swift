/// Why an item failed, from a fixed, documented set: what `pipeline failures` groups by, what a run
/// counts in its history, and what decides the suggested fix.
///
/// The set is closed on purpose (a new case is a documented change): machines read the raw values
/// (`--json`, the state, the run history), and a person reads `title`.
public enum FailureCategory: String, Sendable, Equatable, Hashable, Codable, CaseIterable {
    /// The connection dropped, was refused or reset, or a name did not resolve.
    case network
    /// A TLS handshake or certificate check failed.
    case tls
    /// Credentials were refused (a wrong password, a revoked token, a missing scope).
    case authentication
    /// A rate limit or daily quota said no.
    case quota
    /// The other side failed on its own (HTTP 5xx, FTP 4xx replies, Google's status 13).
    case serverError = "server_error"
    /// The file is gone from the source, or changed while it was copied.
    case remoteMissing = "remote_missing"
    /// The file is damaged: a checksum mismatch, an archive or image that does not open.
    case corruptSource = "corrupt_source"
    /// The destination does not take this kind of file.
    case unsupportedType = "unsupported_type"
    /// The file is larger than the destination or the pipeline allows.
    case tooLarge = "too_large"
    /// No space left on a local disk.
    case diskFull = "disk_full"
    /// Permission denied, at the source, the destination or the work directory.
    case permission
    /// The pipeline file or a stage's parameters are wrong.
    case configuration
    /// An external stage exited without saying why (a crash, a signal, an exit status outside the protocol).
    case stageCrashed = "stage_crashed"
    /// A stage went past its `timeout:`.
    case timeout
    /// Nothing above matched: the message says what happened.
    case other

    /// How a person reads it ("remote file missing or changed").
    public var title: String {
        switch self {
        case .network: "network"
        case .tls: "TLS"
        case .authentication: "authentication"
        case .quota: "quota"
        case .serverError: "server error"
        case .remoteMissing: "remote file missing or changed"
        case .corruptSource: "corrupt source"
        case .unsupportedType: "unsupported type"
        case .tooLarge: "too large"
        case .diskFull: "disk full"
        case .permission: "permission"
        case .configuration: "configuration"
        case .stageCrashed: "stage crashed"
        case .timeout: "timeout"
        case .other: "other"
        }
    }
}
