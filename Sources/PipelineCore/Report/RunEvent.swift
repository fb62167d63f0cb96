/// Something that happened in a run, for the log, the progress display and machines.
public enum RunEvent: Sendable {
    case runStarted(pipeline: String, summary: StateSummary, maxFailures: Int)
    case notice(String)
    case warning(String)
    case listed(found: Int, selected: Int, toDo: Int, bytesToDo: Int64)
    case stageStarted(path: String, stage: String, attempt: Int)
    case stageDone(path: String, stage: String, seconds: Double)
    case stageRetrying(path: String, stage: String, attempt: Int, after: TimeSpan, error: String)
    case stageLog(path: String, stage: String, message: String)
    case progress(path: String, stage: String, bytes: Int64, total: Int64?)
    case wentBack(path: String, to: String, reason: String)
    case itemCompleted(path: String, size: Int64)
    case itemFailed(path: String, stage: String, error: String, failures: Int, givenUp: Bool)
    case itemSkipped(path: String, reason: String)
    case itemLeft(path: String, stage: String)
    case stopping(reason: String)
    case runFinished(outcome: RunOutcome, summary: StateSummary, maxFailures: Int)
}

/// Where run events go. Implementations must not block for long: they are called from item tasks.
public protocol Reporter: Sendable {
    func report(_ event: RunEvent)
    /// Called once when the run ends, to restore the terminal and flush output.
    func finish()
}

extension Reporter {
    public func finish() {}
}

/// How a run ended.
public struct RunOutcome: Sendable, Equatable, Codable {
    public enum StopCause: String, Sendable, Equatable, Codable {
        case timeBudget = "time_budget"
        case signal
        /// A commit failed (disk full, file removed): going on would be work without a record.
        case stateUnwritable = "state_unwritable"
        /// The destination's daily quota is used up: the rest waits for the next run.
        case quotaExhausted = "quota_exhausted"
        /// The destination refused the credentials (a revoked or expired refresh token).
        case notAuthorized = "not_authorized"
    }

    public var completed = 0
    public var failed = 0
    public var skipped = 0
    /// Items left where they were because the run stopped.
    public var left = 0
    /// Items not started because the run stopped.
    public var notStarted = 0
    public var bytesCompleted: Int64 = 0
    public var stoppedBy: StopCause?
    /// The run stopped before the source was listed.
    public var listingInterrupted = false
    public var seconds: Double = 0

    public init() {}

    public var exitStatus: ExitStatus {
        if stoppedBy == .stateUnwritable { return .ioError }
        if stoppedBy == .notAuthorized { return .notAuthorized }
        if stoppedBy != nil, left + notStarted > 0 || listingInterrupted { return .stoppedEarly }
        return failed > 0 ? .itemsFailed : .success
    }
}
