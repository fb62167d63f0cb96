import Foundation

/// A pipeline file with its state opened: what every command that reads or changes the state starts from.
public struct PipelineSession: Sendable {
    public var pipeline: PipelineFile?
    /// Where the state is, as it may be shown (a database URL without its password).
    public var statePath: String
    public var location: StateLocation
    public var store: any StateStore
    /// Held while the session changes a state file; nil for read-only sessions and shared databases.
    public var lock: StateLock?
    public var maxFailures: Int

    /// Finds the state from `--state` or the pipeline file's `state:`; refuses when neither is given.
    public static func location(pipeline: PipelineFile?, override: String?) throws -> StateLocation {
        if let override { return StateLocation(override, relativeTo: PathResolver.currentDirectory) }
        if let pipeline { return pipeline.state }
        throw PipelineError(.usage, "no state given", hint: "name the pipeline file, or pass --state PATH (or a postgres:// URL)")
    }

    /// The state file's path; refuses a shared database (for commands that work on files only).
    public static func statePath(pipeline: PipelineFile?, override: String?) throws -> String {
        let location = try location(pipeline: pipeline, override: override)
        guard case .file(let path) = location else {
            throw PipelineError(.usage, "this command works on a state file, and the state is the database \(location)",
                                hint: "`pipeline state pull` copies a shared state into a file")
        }
        return path
    }

    /// Whether there is a state to read (a database is taken to be there: opening it says if not).
    public static func exists(_ location: StateLocation) -> Bool {
        guard case .file(let path) = location else { return true }
        return FileManager.default.fileExists(atPath: path)
    }

    /// Opens the state for changing: a file's lock is taken first, and the file created when `create`.
    public static func forWriting(pipeline: PipelineFile?, stateOverride: String?, create: Bool) throws -> PipelineSession {
        let location = try location(pipeline: pipeline, override: stateOverride)
        switch location {
        case .file(let path):
            let lock = try StateLock(statePath: path)
            let store = try SQLiteStateStore(path: path, create: create)
            if FileManager.default.fileExists(atPath: path) { try lock.holdStateFile() }
            return PipelineSession(pipeline: pipeline, statePath: path, location: location, store: store, lock: lock,
                                   maxFailures: try maxFailures(pipeline, store))
        case .database(let url):
            let store = try openDatabase(url, create: create)
            return PipelineSession(pipeline: pipeline, statePath: location.description, location: location, store: store, lock: nil,
                                   maxFailures: try maxFailures(pipeline, store))
        }
    }

    /// Opens the state to look at it; works while a run holds the lock.
    public static func forReading(pipeline: PipelineFile?, stateOverride: String?) throws -> PipelineSession {
        let location = try location(pipeline: pipeline, override: stateOverride)
        let store: any StateStore
        switch location {
        case .file(let path): store = try SQLiteStateStore(path: path, create: false, readOnly: true)
        case .database(let url): store = try openDatabase(url, create: false)
        }
        return PipelineSession(pipeline: pipeline, statePath: location.description, location: location, store: store, lock: nil,
                               maxFailures: try maxFailures(pipeline, store))
    }

    /// The environment variable a shared state's password may come from (it overrides one in the URL).
    public static let passwordVariable = "PIPELINE_STATE_PASSWORD"

    /// Opens the PostgreSQL state at `url`, the password from `PIPELINE_STATE_PASSWORD` when set.
    public static func openDatabase(_ url: String, create: Bool) throws -> PostgresStateStore {
        let password = ProcessInfo.processInfo.environment[passwordVariable].flatMap { $0.isEmpty ? nil : $0 }
        return try PostgresStateStore(url: url, password: password, runner: .current(), create: create)
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

    /// The metadata key naming the pipeline a state belongs to.
    public static let ownerKey = "pipeline"

    public func close() throws { try store.close() }
}
