import Foundation

/// A pipeline file with its state opened: what every command that reads or changes the state starts from.
public struct PipelineSession: Sendable {
    public var pipeline: PipelineFile?
    public var statePath: String
    public var store: any StateStore
    /// Held while the session changes the state; nil for read-only sessions.
    public var lock: StateLock?
    public var maxFailures: Int

    /// Finds the state from `--state` or the pipeline file's `state:`; refuses when neither is given.
    public static func statePath(pipeline: PipelineFile?, override: String?) throws -> String {
        if let override { return PathResolver.absolute(override, relativeTo: PathResolver.currentDirectory) }
        if let pipeline { return pipeline.statePath }
        throw PipelineError(.usage, "no state file given", hint: "name the pipeline file, or pass --state PATH")
    }

    /// Opens the state for changing: takes the lock first, creates the file when `create`.
    public static func forWriting(pipeline: PipelineFile?, stateOverride: String?, create: Bool) throws -> PipelineSession {
        let path = try statePath(pipeline: pipeline, override: stateOverride)
        let lock = try StateLock(statePath: path)
        let store = try SQLiteStateStore(path: path, create: create)
        if FileManager.default.fileExists(atPath: path) { try lock.holdStateFile() }
        return PipelineSession(pipeline: pipeline, statePath: path, store: store, lock: lock, maxFailures: try maxFailures(pipeline, store))
    }

    /// Opens the state to look at it; works while a run holds the lock.
    public static func forReading(pipeline: PipelineFile?, stateOverride: String?) throws -> PipelineSession {
        let path = try statePath(pipeline: pipeline, override: stateOverride)
        let store = try SQLiteStateStore(path: path, create: false, readOnly: true)
        return PipelineSession(pipeline: pipeline, statePath: path, store: store, lock: nil, maxFailures: try maxFailures(pipeline, store))
    }

    /// The pipeline file's `max_failures`, else the one the last run recorded, else the default.
    private static func maxFailures(_ pipeline: PipelineFile?, _ store: any StateStore) throws -> Int {
        if let pipeline { return pipeline.maxFailures }
        return try store.metadata(maxFailuresKey).flatMap(Int.init) ?? 3
    }

    static let maxFailuresKey = "max_failures"

    /// Refuses a state that another pipeline made (its files would never be processed here, and
    /// its records would be taken for this pipeline's); then records this pipeline as the owner.
    public func claim(for pipeline: PipelineFile) throws {
        if let owner = try store.metadata(Self.ownerKey), owner != pipeline.name {
            throw PipelineError(.badData, "the state '\(statePath)' belongs to the pipeline '\(owner)', not to '\(pipeline.name)' (\(pipeline.path))",
                                hint: "give each pipeline its own state file (state: in the file, or --state); a state is never shared")
        }
        try store.setMetadata(Self.ownerKey, pipeline.name)
    }

    static let ownerKey = "pipeline"

    public func close() throws { try store.close() }
}
