import Foundation

/// A failure of the PostgreSQL binding: what happened (the server's own message where there is one),
/// its SQLSTATE, and what to do next. Never holds the password: connection messages are redacted.
struct PostgresError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable, Hashable {
        /// The URL or a setting is wrong (unparsable, a timeout out of range, TLS refused off loopback).
        case configuration
        /// The server could not be reached, or the connection broke.
        case connection
        /// The server refused the user or password.
        case authentication
        /// The database named in the URL does not exist.
        case missingDatabase
        /// A statement failed on the server (see `sqlState`), or could not be sent.
        case statement
        /// A statement ran past the statement timeout.
        case timeout
    }

    var kind: Kind
    /// The five-character SQLSTATE the server reported (`23505` for a unique violation), if any.
    var sqlState: String?
    /// What happened: the server's primary message, or libpq's.
    var message: String
    /// What to do next.
    var hint: String

    init(_ kind: Kind, _ message: String, sqlState: String? = nil, hint: String) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.hint = hint
    }

    var description: String {
        let code = sqlState.map { " (SQLSTATE \($0))" } ?? ""
        return "PostgreSQL: \(message)\(code)\n  hint: \(hint)"
    }

    var isUniqueViolation: Bool { sqlState == "23505" }

    /// A serialization failure or deadlock: running the whole transaction again may succeed.
    var isTransactionConflict: Bool { sqlState == "40001" || sqlState == "40P01" }

    /// The same failure as a `PipelineError`, whose code decides the exit status.
    var pipelineError: PipelineError {
        let code: PipelineError.Code
        switch kind {
        case .configuration: code = .configuration
        case .connection: code = .serviceUnavailable
        case .authentication: code = .notAuthorized
        case .missingDatabase: code = .configuration
        case .statement: code = isTransactionConflict ? .serviceUnavailable : .internalError
        case .timeout: code = .timedOut
        }
        return PipelineError(code, "PostgreSQL: " + message + (sqlState.map { " (SQLSTATE \($0))" } ?? ""), hint: hint)
    }

    /// A failed statement, from the fields of the server's error report.
    static func statement(sqlState: String?, message: String, serverHint: String?) -> PostgresError {
        let kind: Kind = sqlState == "57014" ? .timeout : .statement
        let hint: String
        switch sqlState {
        case "57014"?:
            hint = "the statement ran longer than the statement timeout: raise it, or check the server's load and locks"
        case "23505"?:
            hint = "a row with this key exists already"
        case "40001"?, "40P01"?:
            hint = "another transaction conflicted with this one: run the transaction again"
        case "25P02"?:
            hint = "an earlier statement of this transaction failed; roll it back and start again"
        case let state? where state.hasPrefix("08") || state.hasPrefix("57P"):
            hint = "the connection to the server broke: check that it runs, then run again (the state is intact)"
        case let state? where state.hasPrefix("53"):
            hint = "the server is out of a resource (disk, memory, connections): free some, then run again"
        case "42P01"?, "42703"?, "42883"?, "42704"?:
            hint = "the database does not have what pipeline expects (another pipeline version, or not its database?)"
        default:
            hint = "this may be a defect in pipeline's SQL: report it with this message"
        }
        return PostgresError(kind, message, sqlState: sqlState, hint: serverHint.map { "\($0); \(hint)" } ?? hint)
    }

    /// A failed connection, from libpq's message (which carries no SQLSTATE): classified by its wording,
    /// the password masked, and addressed to `target` (the URL without its password).
    static func connection(libpqMessage: String, target: String, redactor: SecretRedactor) -> PostgresError {
        let message = redactor.redact(libpqMessage.trimmingCharacters(in: .whitespacesAndNewlines)
            .split(whereSeparator: \.isNewline).joined(separator: "; "))
        if message.contains("password authentication failed") || message.contains("no password supplied")
            || message.contains("authentication failed") || message.contains("role \"") && message.contains("does not exist") {
            return PostgresError(.authentication, "\(target) refused the login: \(message)",
                                 hint: "check the user and password of the state URL (the password is best given through an environment variable)")
        }
        if message.contains("database \"") && message.contains("does not exist") {
            return PostgresError(.missingDatabase, "\(target): \(message)",
                                 hint: "create the database (createdb, or your provider's console) or correct its name in the state URL")
        }
        if message.contains("SSL") || message.contains("certificate") {
            return PostgresError(.connection, "\(target): \(message)",
                                 hint: "the server must offer TLS off loopback: enable it there, or set sslmode in the URL knowingly")
        }
        return PostgresError(.connection, "cannot connect to \(target): \(message)",
                             hint: "check the host, port and that the server runs, then run again")
    }
}
