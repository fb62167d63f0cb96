/// Why a stage did not finish, and so what the orchestrator does next.
public struct StageFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A retry may help (dropped connection, 503, exit status 75): retried with backoff.
        case retryable
        /// A retry will not help in this run (wrong password, missing file): the item fails this run.
        case permanent
        /// The input this stage got is bad (a checksum mismatch): the stage that produced it runs again.
        case badInput
        /// The run is stopping (signal or time budget); the item stays where it is for the next run.
        case interrupted
        /// No item can get through this stage in this run (the destination's daily quota is used up,
        /// its authorisation was revoked): the run stops, and this item, like every other one, stays
        /// where it is, not counted as a failure.
        case stopsRun(RunOutcome.StopCause)
    }

    public var kind: Kind
    public var message: String
    /// The least wait before a retry that the other side asked for (`Retry-After`, a rate limit);
    /// the retry policy's own wait applies when it is longer.
    public var retryAfter: TimeSpan?
    /// For bad input: how many times in a run the item may go back to the stage that produced
    /// it before it fails (a checksum's `max_mismatches` - 1); the retry policy decides if unset.
    public var backtrackLimit: Int?
    /// The other side answered, about this item only (Google's status 13 for one media item): a
    /// retryable failure that says nothing of an outage (`CircuitBreaker`).
    public var isAnswerAboutTheItem: Bool
    /// Why, from the documented set (`FailureCategory`), when the stage knows; nil leaves it to be
    /// told from the message when the item fails.
    public var category: FailureCategory?

    public init(_ kind: Kind, _ message: String, retryAfter: TimeSpan? = nil, backtrackLimit: Int? = nil, isAnswerAboutTheItem: Bool = false,
                category: FailureCategory? = nil) {
        self.kind = kind
        self.message = message
        self.retryAfter = retryAfter
        self.backtrackLimit = backtrackLimit
        self.isAnswerAboutTheItem = isAnswerAboutTheItem
        self.category = category
    }

    public static func retryable(_ message: String) -> StageFailure { StageFailure(.retryable, message) }
    public static func permanent(_ message: String) -> StageFailure { StageFailure(.permanent, message) }
    public static let interrupted = StageFailure(.interrupted, "interrupted")
    public static func stopsRun(_ cause: RunOutcome.StopCause, _ message: String) -> StageFailure { StageFailure(.stopsRun(cause), message) }

    public var description: String { message }
}
