import Foundation

/// Tells a failure's category from its message, for failures whose stage did not say (an external
/// stage of the old protocol, an error the orchestrator caught, a state written before categories).
///
/// Pure and conservative: it looks for the wording libc, libcurl, HTTP and the built-in stages use
/// ("No space left on device", "Permission denied", "timed out", "Connection refused", …) and
/// answers `other` when nothing matches, rather than guess.
public enum FailureClassifier {
    /// The category `message` reads as; `other` when nothing matches.
    public static func category(of message: String) -> FailureCategory {
        let text = message.lowercased()
        // Status codes count only as whole numbers: "IMG_5001.jpg" is no HTTP 500.
        let numbers = Set(text.split { !$0.isNumber }.map(String.init))
        for rule in rules where rule.phrases.contains(where: { text.contains($0) }) || rule.codes.contains(where: { numbers.contains($0) }) {
            return rule.category
        }
        return .other
    }

    /// The category a system call's `errno` means, where it means one: a full disk, a permission
    /// refused (read-only file systems and immutable files included), a file not there.
    public static func category(errno code: Int32) -> FailureCategory? {
        switch code {
        case ENOSPC, EDQUOT: .diskFull
        case EACCES, EPERM, EROFS: .permission
        case ENOENT: .remoteMissing
        case ETIMEDOUT: .timeout
        case ECONNREFUSED, ECONNRESET, EPIPE, ENETUNREACH, EHOSTUNREACH: .network
        default: nil
        }
    }

    /// A category, the phrases that tell it and the status codes (FTP, HTTP) that do.
    struct Rule: Sendable {
        var category: FailureCategory
        var phrases: [String]
        var codes: [String] = []
    }

    /// In order: the first rule that matches wins, so the specific ones come first ("no space
    /// left" before anything else, "timed out" before a connection's words).
    static let rules: [Rule] = [
        Rule(category: .diskFull, phrases: ["no space left", "enospc", "disk full", "disk quota exceeded"]),
        Rule(category: .timeout, phrases: ["timed out", "timeout", "etimedout"]),
        Rule(category: .tls, phrases: ["ssl", "tls handshake", "tls connection", "certificate", "handshake"]),
        Rule(category: .authentication, phrases: ["login", "invalid_grant", "unauthenticated", "unauthorized", "insufficient authentication scopes",
                                                  "authentication failed", "access token", "refresh token", "not authorised", "not authorized"],
             codes: ["530", "401"]),
        Rule(category: .quota, phrases: ["resource_exhausted", "quota", "rate limit", "too many requests"], codes: ["429"]),
        Rule(category: .permission, phrases: ["permission denied", "eacces", "eperm", "operation not permitted", "permission_denied",
                                              "read-only file system", "access denied"], codes: ["403"]),
        Rule(category: .remoteMissing, phrases: ["no such file", "enoent", "not found", "does not exist", "changed while", "changed at the source",
                                                 "kept changing", "is gone", "file unavailable"], codes: ["550", "404"]),
        Rule(category: .corruptSource, phrases: ["mismatch", "differ", "does not match", "corrupt", "damaged", "truncated", "crc", "unrecognized archive",
                                                 "checksum"]),
        Rule(category: .unsupportedType, phrases: ["unsupported media", "unsupported file", "unsupported type", "invalid media", "not a supported",
                                                   "media type"], codes: ["415"]),
        Rule(category: .tooLarge, phrases: ["too large", "file size exceeds", "exceeds the size", "larger than"], codes: ["413"]),
        Rule(category: .network, phrases: ["connection refused", "connection reset", "could not connect", "couldn't connect", "could not resolve",
                                           "couldn't resolve", "network is unreachable", "broken pipe", "recv failure", "send failure",
                                           "partial file", "transfer closed", "econnreset", "econnrefused", "dropped", "connection closed",
                                           "connection lost", "failure when receiving", "failed sending"], codes: ["421", "425", "426"]),
        Rule(category: .serverError, phrases: ["internal error", "internal server error", "bad gateway", "service unavailable", "status 13",
                                               "server error", "backend error"], codes: ["500", "502", "503", "504", "451"]),
        Rule(category: .stageCrashed, phrases: ["killed by signal", "exited with status", "crashed", "without a result", "outside the protocol"]),
        Rule(category: .configuration, phrases: ["configuration", "invalid parameter", "pipeline file"]),
    ]
}
