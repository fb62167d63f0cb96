/// One stage of a pipeline, ready to run: its definition from the file and its instance.
public struct PipelineStep: Sendable {
    public var name: String
    public var stage: any Stage
    public var retry: RetryPolicy
    public var timeout: TimeSpan?
    public var isIrreversible: Bool
    /// Items this stage works on at once; nil: the pipeline's `concurrency`.
    public var concurrency: Int?

    public init(name: String, stage: any Stage, retry: RetryPolicy = .default, timeout: TimeSpan? = nil, isIrreversible: Bool? = nil,
                concurrency: Int? = nil) {
        self.name = name
        self.stage = stage
        self.retry = retry
        self.timeout = timeout
        self.isIrreversible = isIrreversible ?? stage.isIrreversible
        self.concurrency = concurrency
    }

    public init(definition: StageDefinition, stage: any Stage) {
        self.init(name: definition.name, stage: stage, retry: definition.retry, timeout: definition.timeout,
                  isIrreversible: definition.irreversible, concurrency: definition.concurrency)
    }

    var plan: ItemJourney.StagePlan {
        ItemJourney.StagePlan(name: name, retry: retry, isIrreversible: isIrreversible, timeout: timeout)
    }
}
