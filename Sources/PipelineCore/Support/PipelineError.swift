/// An error that stops a command, with what happened, what to do next, and the exit status it maps to.
///
/// One struct with a `code` rather than a wide public enum, so new kinds do not break callers; the
/// mapping from kind to exit status lives here and nowhere else.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The command line itself was wrong.
        case usage
        /// The pipeline file (or something it names) is invalid.
        case configuration
        /// A named input file does not exist or cannot be read.
        case missingInput
        /// A state file or import file exists but is not ours, or is damaged.
        case badData
        /// Another run holds the state file.
        case stateLocked
        /// The source could not be listed.
        case sourceUnavailable
        /// Reading or writing local files failed.
        case io
        /// A defect in pipeline itself.
        case internalError
        /// A service refused the credentials: authorise again.
        case notAuthorized
        /// A service could not be reached or did not answer usefully.
        case serviceUnavailable
        /// Nothing came in time; running the command again may succeed.
        case timedOut
    }

    public var code: Code
    public var message: String
    /// What the user can do about it; printed on its own line.
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message)\n  hint: \(hint)"
    }

    public var exitStatus: ExitStatus {
        switch code {
        case .usage: return .usage
        case .configuration: return .configuration
        case .missingInput: return .missingInput
        case .badData: return .badData
        case .stateLocked: return .stateLocked
        case .sourceUnavailable: return .unavailable
        case .io: return .ioError
        case .internalError: return .internalError
        case .notAuthorized: return .notAuthorized
        case .serviceUnavailable: return .unavailable
        case .timedOut: return .stoppedEarly
        }
    }
}

/// The documented exit statuses of `pipeline` (sysexits.h where one fits). README lists them.
public enum ExitStatus: Int32, Sendable, CaseIterable {
    /// Every listed item is completed or skipped: nothing is left to do.
    case success = 0
    /// The run ended normally but some items failed (recorded in the state; run again to retry them).
    case itemsFailed = 1
    case usage = 64
    case badData = 65
    case missingInput = 66
    /// EX_UNAVAILABLE: the source could not be listed, or the destination cannot take more.
    case unavailable = 69
    case internalError = 70
    /// The state file is held by another running `pipeline run`.
    case stateLocked = 73
    case ioError = 74
    /// Work remains and the state is saved: the time budget ran out or a stop was requested
    /// (EX_TEMPFAIL: run again to continue).
    case stoppedEarly = 75
    /// A destination refused the credentials (EX_NOPERM): re-authorise, then run again.
    case notAuthorized = 77
    case configuration = 78

    public var meaning: String {
        switch self {
        case .success: return "all listed items are completed or skipped"
        case .itemsFailed: return "the run finished, some items failed (run again to retry them) or were given up (`pipeline retry`)"
        case .usage: return "command line usage error"
        case .badData: return "a state or import file is damaged or not ours (left untouched)"
        case .missingInput: return "a named file does not exist"
        case .unavailable: return "the source could not be listed, a service is down, or the destination's storage is full"
        case .internalError: return "internal error"
        case .stateLocked: return "the state file is in use by another run"
        case .ioError: return "local file input/output error"
        case .stoppedEarly: return "stopped early (time budget, SIGINT or SIGTERM, a destination's daily quota); state saved, run again to continue"
        case .notAuthorized: return "a destination refused the credentials or lacks a scope; re-authorise, then run again"
        case .configuration: return "the pipeline file is invalid, or the destination holds uploads the state does not know of"
        }
    }

    /// Every status with its meaning, in numeric order, for `--help`.
    public static var helpText: String {
        "Exit statuses:\n" + allCases.sorted { $0.rawValue < $1.rawValue }.map { "  \($0.rawValue)  \($0.meaning)" }.joined(separator: "\n")
    }
}
