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

    /// Whether other items may still come to this stage in this run: items before it, and items at
    /// it that are not waiting for others yet (on their way in, or working in it); false once the
    /// run is stopping. A batch need not wait for items that will not come.
    public var othersMayFollow: Bool { events.othersMayFollow() }

    /// Opens when `othersMayFollow` may answer differently: take it before asking, then await it.
    public var nextChangeOfOthersMayFollow: Latch { events.nextChangeOfOthersMayFollow() }

    /// Call right before a step that cannot be taken back (creating media items, renaming into the
    /// destination, deleting the source). In a state several runners share it renews the item's
    /// lease and throws (`interrupted`) if the item is no longer this runner's, so a runner frozen
    /// past its lease never takes the step another runner may take too. Elsewhere it returns at once.
    public func beforeIrreversibleStep() async throws(StageFailure) { try await events.beforeIrreversibleStep() }

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

    /// Runs `body` while no other runner of a shared state runs a section of this stage with the
    /// same `name` (bookkeeping that assumes one writer, such as an album's ledger), waiting for
    /// it; blocks the calling thread. Without other runners it runs `body` at once.
    public func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try events.exclusively(name, body)
    }

    /// Counts `amount` against the daily limit `limit` of `quota` (a project's API requests),
    /// shared by every runner of the state; false, counting nothing, when it would pass the limit.
    /// The day is `day` (the service's own: Google's quotas reset at midnight Pacific time).
    public func spend(_ quota: String, day: String, amount: Int = 1, limit: Int) throws -> Bool {
        try events.spend(quota, day: day, amount: amount, limit: limit)
    }

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
    /// Opens when `othersMayFollow` may answer differently.
    func nextChangeOfOthersMayFollow() -> Latch
    /// The stage's own run-independent memory (not per item).
    func recall(_ key: String) throws -> String?
    /// Sets (nil: removes) several keys in one durable transaction.
    func remember(_ changes: [String: String?]) throws
    /// Makes sure the item is still this runner's before an irreversible step.
    func beforeIrreversibleStep() async throws(StageFailure)
    /// Runs `body` as the only runner in the section `name` of this stage.
    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T
    /// Counts against a daily limit shared by every runner.
    func spend(_ quota: String, day: String, amount: Int, limit: Int) throws -> Bool
}

extension StageEventSink {
    /// Nothing to secure where no other runner may take the item.
    public func beforeIrreversibleStep() async throws(StageFailure) {}
    /// No other runner: the section is this one's.
    public func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T { try body() }
    /// Never: `othersMayFollow` is asked again only when a batch's own time is up.
    public func nextChangeOfOthersMayFollow() -> Latch { Latch() }
    /// Nothing counted: no limit is known.
    public func spend(_ quota: String, day: String, amount: Int, limit: Int) throws -> Bool { true }
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
