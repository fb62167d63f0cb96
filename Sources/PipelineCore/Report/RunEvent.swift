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
    /// At the end of a run: listed items that failed `max_failures` runs and wait for a person.
    case givenUp([GivenUpItem])
    case stopping(reason: String)
    /// At the end of a run with failures: this run's failed items counted by category, most first
    /// (`pipeline failures` groups them further).
    case failureCategories([FailureCount])
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
        /// The destination refused the credentials (a revoked or expired refresh token, a missing scope).
        case notAuthorized = "not_authorized"
        /// The destination cannot take more (the account's storage is full).
        case destinationFull = "destination_full"
        /// The destination already holds uploads of this pipeline that the state does not know of
        /// (a lost or stale state): going on would upload them again.
        case destinationHasUploads = "destination_has_uploads"
        /// Every try of a stage failed, across several items, with no success: a service is down.
        case outage
    }

    public var completed = 0
    public var failed = 0
    public var skipped = 0
    /// Items left where they were because the run stopped.
    public var left = 0
    /// Items not started because the run stopped.
    public var notStarted = 0
    /// In a shared state: unfinished items this runner did not finish, held by other runners or
    /// left by runners that stopped (the next run, here or elsewhere, goes on with them).
    public var leftToOthers = 0
    public var bytesCompleted: Int64 = 0
    public var stoppedBy: StopCause?
    /// The run stopped before the source was listed.
    public var listingInterrupted = false
    /// Items not started because they wait for a time window that is closed, or for the next quota
    /// day (their upload needs more requests than are left today): the next run goes on with them.
    public var waiting = 0
    /// Items the state had set aside after `max_failures` runs when the run began (not tried in it).
    public var givenUp = 0
    public var seconds: Double = 0
    /// What is left after the run, and what it costs under the destinations' daily quotas.
    public var plan: TransferPlan?

    public init() {}

    public var exitStatus: ExitStatus {
        switch stoppedBy {
        case .stateUnwritable?: return .ioError
        case .notAuthorized?: return .notAuthorized
        case .destinationFull?, .outage?: return .unavailable
        case .destinationHasUploads?: return .configuration
        default: break
        }
        // Work left is never a success, stopped or not: run again to continue.
        if left + notStarted + leftToOthers + waiting > 0 || listingInterrupted { return .stoppedEarly }
        // A run that did all it could and still has given-up items is not a success: someone must
        // look at them (`pipeline retry` or `forget`), or a schedule would stay green forever.
        return failed > 0 || givenUp > 0 ? .itemsFailed : .success
    }
}

/// A listed item set aside after `max_failures` failed runs, with what went wrong last.
public struct GivenUpItem: Sendable, Equatable {
    /// How many a log or step summary lists one by one; the rest are counted.
    public static let listed = 50

    public var path: String
    public var stage: String?
    public var error: String
    public var failures: Int

    public init(path: String, stage: String?, error: String, failures: Int) {
        self.path = path
        self.stage = stage
        self.error = error
        self.failures = failures
    }
}
