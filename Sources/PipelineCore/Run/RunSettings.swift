/// What the orchestrator needs from the pipeline file (and command-line overrides).
public struct RunSettings: Sendable {
    public var pipelineName: String
    public var workdir: String
    public var concurrency: Int
    public var maxFailures: Int
    public var timeBudget: TimeSpan?
    public var diskBudget: ByteSize?
    public var source: SourceDefinition?
    public var redactor: SecretRedactor
    /// The stages' daily quotas, for the plan at the end of the run.
    public var quotas: [QuotaModel] = []
    /// How long a runner's hold on an item of a shared state lasts unless renewed.
    public var lease = RunSettings.defaultLease
    /// What the run reads the time from and waits on (a test's own clock in tests).
    public var clock: any RunClock = SystemRunClock()
    /// Which items claims take first, and which wait for a time window.
    public var schedule = Schedule.listed

    public static let defaultLease = TimeSpan(milliseconds: 60_000)

    public init(pipelineName: String, workdir: String, concurrency: Int, maxFailures: Int, timeBudget: TimeSpan?,
                diskBudget: ByteSize? = nil, source: SourceDefinition?, redactor: SecretRedactor) {
        self.pipelineName = pipelineName
        self.workdir = workdir
        self.concurrency = concurrency
        self.maxFailures = maxFailures
        self.timeBudget = timeBudget
        self.diskBudget = diskBudget
        self.source = source
        self.redactor = redactor
    }

    public init(pipeline: PipelineFile, catalog: (any StageCatalog)? = nil) {
        self.init(pipelineName: pipeline.name, workdir: pipeline.workdir, concurrency: pipeline.concurrency,
                  maxFailures: pipeline.maxFailures, timeBudget: pipeline.timeBudget, diskBudget: pipeline.diskBudget, source: pipeline.source,
                  redactor: SecretRedactor(secrets: pipeline.secrets))
        if let catalog { quotas = Self.quotas(of: pipeline, catalog: catalog) }
        if let lease = pipeline.lease { self.lease = lease }
        schedule = pipeline.schedule
    }

    /// The daily quotas the pipeline's built-in stages spend.
    public static func quotas(of pipeline: PipelineFile, catalog: any StageCatalog) -> [QuotaModel] {
        pipeline.stages.compactMap { stage in
            guard case .builtin(let name) = stage.reference else { return nil }
            return catalog.descriptor(named: name)?.quota?(stage.parameters)
        }
    }
}
