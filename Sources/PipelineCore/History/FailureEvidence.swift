/// One failure of one item, as the state keeps it beside the item (its last `limit`): what
/// `pipeline failures` groups, and what tells a persistent failure from a passing one.
public struct FailureEvidence: Sendable, Equatable, Codable {
    public var path: String
    /// The run that failed it (`StateStore.beginRun`); nil when it was recorded outside a run's history.
    public var run: Int64?
    public var stage: String
    public var category: FailureCategory
    /// The error as recorded (redacted).
    public var error: String
    /// The try of that run that failed last (1 for the first).
    public var attempt: Int
    /// Seconds since 1970.
    public var at: Double

    public init(path: String, run: Int64?, stage: String, category: FailureCategory, error: String, attempt: Int, at: Double) {
        self.path = path
        self.run = run
        self.stage = stage
        self.category = category
        self.error = error
        self.attempt = attempt
        self.at = at
    }

    /// How many failures a state keeps per item (the oldest go first).
    public static let limit = 20
}
