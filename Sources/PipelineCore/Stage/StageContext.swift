/// Everything a stage gets for one attempt on one item.
public struct StageContext: Sendable {
    public var stageName: String
    public var item: SourceItem
    /// 1 for the first try in this run.
    public var attempt: Int
    public var workdir: String
    /// Where a stage that produces the item's local file puts it: inside the work directory,
    /// derived from the item's path so that no remote name can escape.
    public var target: WorkPath
    /// The item's current local file (absolute), from the latest earlier stage that produced one.
    public var inputFile: String?
    /// Outputs of the stages already done for this item, by stage name.
    public var earlierOutputs: [String: [String: JSONValue]]
    /// What this stage saved with `saveCheckpoint` in an attempt that was cut off (an upload session).
    public var checkpoint: [String: JSONValue]?
    /// Set when the stage must stop; long work checks it between chunks.
    public var stop: StopSignal
    let events: any StageEventSink

    public init(
        stageName: String, item: SourceItem, attempt: Int, workdir: String,
        target: WorkPath, inputFile: String?, earlierOutputs: [String: [String: JSONValue]],
        checkpoint: [String: JSONValue]?, stop: StopSignal, events: any StageEventSink
    ) {
        self.stageName = stageName
        self.item = item
        self.attempt = attempt
        self.workdir = workdir
        self.target = target
        self.inputFile = inputFile
        self.earlierOutputs = earlierOutputs
        self.checkpoint = checkpoint
        self.stop = stop
        self.events = events
    }

    /// Reports bytes done so far for this item in this stage (including any resumed part).
    public func progress(bytes: Int64, total: Int64?) { events.progress(bytes: bytes, total: total) }

    /// A line for the log, attributed to this stage and item.
    public func log(_ message: String) { events.log(message) }

    /// Says this attempt only waits for other items now (an upload waiting for its batch to
    /// fill): its place among the stage's `concurrency` goes to the next item, and another item
    /// may enter the run.
    public func waitingForOthers() { events.waitingForOthers() }

    /// Whether items that have not reached this stage yet may still come to it in this run
    /// (false once the run is stopping): a batch need not wait for items that will not come.
    public var othersMayFollow: Bool { events.othersMayFollow() }

    /// Records resumption data durably before going on (an upload session URL before the first byte).
    public func saveCheckpoint(_ values: [String: JSONValue]) throws {
        try events.checkpoint(values)
    }

    /// A value this stage remembered with `remember` in any run, for any item (an album's id).
    public func recall(_ key: String) throws -> String? { try events.recall(key) }

    /// Remembers a value for this stage across items and runs, durably, before returning.
    public func remember(_ key: String, _ value: String) throws { try events.remember([key: value]) }

    /// Remembers (or, for nil, forgets) several values at once: all are recorded, or none.
    public func remember(_ changes: [String: String?]) throws { try events.remember(changes) }

    /// The item's local file, or a permanent failure saying no earlier stage produced one.
    public func requireInputFile() throws -> String {
        guard let inputFile else {
            throw StageFailure.permanent("stage '\(stageName)' needs a local file, but no earlier stage produced one (put a fetch stage before it)")
        }
        return inputFile
    }
}

/// Where a stage's progress, log lines and checkpoints go; the orchestrator provides it.
public protocol StageEventSink: Sendable {
    func progress(bytes: Int64, total: Int64?)
    func log(_ message: String)
    /// Commits the values to the state before returning.
    func checkpoint(_ values: [String: JSONValue]) throws
    /// Records the pid of an external stage's process, so a later run can stop it if this one dies.
    func processStarted(pid: Int32) throws
    /// The attempt only waits for other items now; see `StageContext.waitingForOthers`.
    func waitingForOthers()
    /// Whether other items may still reach this stage in this run.
    func othersMayFollow() -> Bool
    /// The stage's own run-independent memory (not per item).
    func recall(_ key: String) throws -> String?
    /// Sets (nil: removes) several keys in one durable transaction.
    func remember(_ changes: [String: String?]) throws
}

/// What a source stage gets.
public struct ListContext: Sendable {
    public var parameters: [String: JSONValue]
    public var workdir: String
    public var stop: StopSignal
    public var log: @Sendable (String) -> Void
    /// The source's include and exclude patterns: a source need not enter a folder they leave out
    /// (the run applies them to the listing either way).
    public var selection: SourceSelection

    public init(parameters: [String: JSONValue], workdir: String, stop: StopSignal, selection: SourceSelection = .everything,
                log: @escaping @Sendable (String) -> Void) {
        self.parameters = parameters
        self.workdir = workdir
        self.stop = stop
        self.selection = selection
        self.log = log
    }
}
