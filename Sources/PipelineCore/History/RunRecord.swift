/// One run as the state remembers it: when it ran, how it ended and what it did. The run history
/// (`pipeline report`, the progress over runs) is a list of these, oldest first.
public struct RunRecord: Sendable, Equatable, Codable {
    /// 1 for the first run of a state, one more for every run after (across runners of a shared state).
    public var number: Int64
    /// Who ran it (`RunnerIdentity`, `host/pid/random`).
    public var runner: String
    /// Seconds since 1970.
    public var startedAt: Double
    /// Nil while the run goes on, or when it was killed before it could record its end.
    public var endedAt: Double?
    /// The process's exit status (`ExitStatus`), nil until the run ended.
    public var exitCode: Int32?
    public var completed: Int
    public var failed: Int
    public var skipped: Int
    /// Items left where they were, or not started, because the run stopped.
    public var left: Int
    public var bytesCompleted: Int64
    /// This run's failures, counted by category.
    public var failuresByCategory: [FailureCategory: Int]
    /// Why the run stopped early, if it did.
    public var stopCause: RunOutcome.StopCause?
    /// What was left when it ended (items and bytes): the progress over runs.
    public var itemsLeft: Int?
    public var bytesLeft: Int64?

    public init(number: Int64, runner: String, startedAt: Double, endedAt: Double? = nil, exitCode: Int32? = nil,
                completed: Int = 0, failed: Int = 0, skipped: Int = 0, left: Int = 0, bytesCompleted: Int64 = 0,
                failuresByCategory: [FailureCategory: Int] = [:], stopCause: RunOutcome.StopCause? = nil,
                itemsLeft: Int? = nil, bytesLeft: Int64? = nil) {
        self.number = number
        self.runner = runner
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.completed = completed
        self.failed = failed
        self.skipped = skipped
        self.left = left
        self.bytesCompleted = bytesCompleted
        self.failuresByCategory = failuresByCategory
        self.stopCause = stopCause
        self.itemsLeft = itemsLeft
        self.bytesLeft = bytesLeft
    }
}

extension RunRecord {
    /// `failuresByCategory` as a state stores it: a JSON object of counts by the categories' raw values.
    var storedFailuresByCategory: String {
        JSONValue.object(Dictionary(uniqueKeysWithValues: failuresByCategory.map { ($0.key.rawValue, JSONValue.number(Double($0.value))) })).jsonText()
    }

    /// Read back from `storedFailuresByCategory`: a category this version does not know, or a count
    /// that is not a whole number from 0 up, is counted as `other`, never trusted blindly.
    static func failuresByCategory(stored text: String?) -> [FailureCategory: Int] {
        guard let text, let object = try? JSONValue.parse(text).objectValue else { return [:] }
        var counts: [FailureCategory: Int] = [:]
        for (key, value) in object {
            guard let count = value.int64Value, count >= 0, count <= Int64(Int32.max) else { continue }
            counts[FailureCategory(rawValue: key) ?? .other, default: 0] += Int(count)
        }
        return counts
    }
}

extension RunRecord {
    /// The run `begun` once it ended with `outcome` at `endedAt` (seconds since 1970), having
    /// failed items of these categories.
    public init(_ begun: RunRecord, ended outcome: RunOutcome, at endedAt: Double, failures: [FailureCategory: Int]) {
        self.init(number: begun.number, runner: begun.runner, startedAt: begun.startedAt, endedAt: endedAt,
                  exitCode: outcome.exitStatus.rawValue, completed: outcome.completed, failed: outcome.failed, skipped: outcome.skipped,
                  left: outcome.left + outcome.notStarted, bytesCompleted: outcome.bytesCompleted, failuresByCategory: failures,
                  stopCause: outcome.stoppedBy, itemsLeft: outcome.plan?.items, bytesLeft: outcome.plan?.bytes)
    }
}
