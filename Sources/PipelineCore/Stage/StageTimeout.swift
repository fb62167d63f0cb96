/// A stage attempt (or the source's listing) ran past its `timeout:`: the one place that words
/// the failure, which every other place asks for.
public struct StageTimeout: Sendable, Equatable {
    /// The stage's name (`source` for the listing).
    public var stage: String
    /// The stage's `timeout:`; nil when only "it timed out" is known.
    public var limit: TimeSpan?

    public init(stage: String, limit: TimeSpan?) {
        self.stage = stage
        self.limit = limit
    }

    /// Retried like any retryable failure (the next try may be quicker); what to do about it
    /// (a longer `timeout:`) is the failure analysis' suggestion for the `timeout` category.
    public var failure: StageFailure {
        StageFailure(.retryable, limit.map { "\(stage) timed out after \($0)" } ?? "\(stage) timed out", category: .timeout)
    }
}
