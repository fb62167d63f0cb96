/// Removes secret values from any text before it reaches a log line, an error message or the state.
///
/// Secrets are the values of `with:` keys that look secret (password, token, secret, key,
/// credential, auth) and of `${VAR}` references whose variable name looks secret.
public struct SecretRedactor: Sendable {
    public static let mask = "[redacted]"
    private let secrets: [String]

    public init(secrets: some Sequence<String>) {
        // Longest first, so a secret containing another is masked whole. Very short values would
        // mask ordinary words, so they are left (a three-character password is not a secret anyway).
        // A multi-line secret (a key file) reaches a log line by line: each of its lines is a secret too.
        let lines = secrets.flatMap { secret in
            secret.contains(where: \.isNewline) ? secret.split(whereSeparator: \.isNewline).map(String.init) : []
        }
        self.secrets = Set(Array(secrets) + lines).filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    public static let none = SecretRedactor(secrets: [])

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: Self.mask)
        }
        return result
    }

    /// The same for every string inside a JSON value (stage outputs and checkpoints).
    public func redact(_ value: JSONValue) -> JSONValue {
        guard !secrets.isEmpty else { return value }
        switch value {
        case .string(let text): return .string(redact(text))
        case .array(let values): return .array(values.map(redact))
        case .object(let dictionary): return .object(dictionary.mapValues(redact))
        default: return value
        }
    }

    public func redact(_ values: [String: JSONValue]) -> [String: JSONValue] {
        values.mapValues(redact)
    }

    private static let secretWords = ["password", "passwd", "secret", "token", "key", "credential", "auth"]

    /// Whether a parameter or variable name suggests it holds a secret. Where something is to be
    /// found (`token_url`, `GOOGLE_TOKEN_URL`) is not: masking it would hide every message naming it.
    public static func looksSecret(_ name: String) -> Bool {
        let lowered = name.lowercased()
        if ["url", "uri"].contains(lowered.split(whereSeparator: { $0 == "_" || $0 == "-" }).last.map(String.init) ?? "") { return false }
        return secretWords.contains { lowered.contains($0) }
    }
}

import Foundation
