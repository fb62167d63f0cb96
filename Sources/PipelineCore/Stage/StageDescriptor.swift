/// What the pipeline-file loader and `pipeline stages` know about a built-in stage before running it.
public struct StageDescriptor: Sendable {
    /// A `with:` key the stage understands.
    public struct Parameter: Sendable {
        public var name: String
        public var isRequired: Bool
        public var summary: String
        /// A folder the stage reads from or writes to: it must not overlap the others (`FolderLayout`).
        public var folder: FolderLayout.Role?

        public init(_ name: String, required: Bool = false, folder: FolderLayout.Role? = nil, _ summary: String) {
            self.name = name
            self.isRequired = required
            self.folder = folder
            self.summary = summary
        }
    }

    /// How an instance is made from its validated `with:` parameters. Throwing here (a bad value)
    /// is a configuration error, reported at the stage's place in the file.
    public enum Factory: Sendable {
        case source(@Sendable (StageSetup) throws -> any SourceStage)
        case item(@Sendable (StageSetup) throws -> any Stage)
    }

    public var name: String
    public var summary: String
    public var parameters: [Parameter]
    public var factory: Factory
    /// How the stage spends a service's daily request quota, from its `with:` parameters (already
    /// validated), for the plan of what is left; nil when it has none.
    public var quota: (@Sendable ([String: JSONValue]) -> QuotaModel)?

    public init(name: String, summary: String, parameters: [Parameter], factory: Factory,
                quota: (@Sendable ([String: JSONValue]) -> QuotaModel)? = nil) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.factory = factory
        self.quota = quota
    }

    public var isSource: Bool {
        if case .source = factory { return true }
        return false
    }
}

/// Everything a stage factory may look at.
public struct StageSetup: Sendable {
    public var stageName: String
    public var parameters: [String: JSONValue]
    public var workdir: String
    /// The pipeline file's folder, against which relative paths in parameters resolve.
    public var baseDirectory: String
    public var location: SourceLocation
    /// The source's `with:`, so a fetch stage can default to the place the source lists.
    public var sourceParameters: [String: JSONValue]
    /// The pipeline's `name:` (a destination's default album title).
    public var pipelineName: String
    /// `run --fresh`: see `PipelineFile.fresh`.
    public var fresh: Bool

    public init(stageName: String, parameters: [String: JSONValue], workdir: String, baseDirectory: String,
                location: SourceLocation, sourceParameters: [String: JSONValue] = [:], pipelineName: String = "pipeline", fresh: Bool = false) {
        self.stageName = stageName
        self.pipelineName = pipelineName
        self.fresh = fresh
        self.sourceParameters = sourceParameters
        self.parameters = parameters
        self.workdir = workdir
        self.baseDirectory = baseDirectory
        self.location = location
    }

    /// A required string parameter.
    public func string(_ key: String) throws -> String {
        guard let value = parameters[key]?.stringValue, !value.isEmpty else {
            throw location.error("stage '\(stageName)' needs 'with: { \(key): … }'")
        }
        return value
    }

    /// A path parameter made absolute against the pipeline file's folder.
    public func path(_ key: String) throws -> String {
        PathResolver.absolute(try string(key), relativeTo: baseDirectory)
    }

    /// A path from the source's `with:` (a fetch stage defaulting to where the source lists).
    public func sourcePath(_ key: String) throws -> String {
        guard let value = sourceParameters[key]?.stringValue, !value.isEmpty else {
            throw location.error("stage '\(stageName)' needs 'with: { \(key): … }' (the source has none to default to)")
        }
        return PathResolver.absolute(value, relativeTo: baseDirectory)
    }

    /// An optional size parameter such as `rate_limit: 10MB`.
    public func byteSize(_ key: String) throws -> ByteSize? {
        guard let raw = parameters[key] else { return nil }
        guard let text = raw.stringValue, let size = ByteSize(parsing: text) else {
            throw location.error("stage '\(stageName)': '\(key)' must be a size such as 10MB or 1.5GiB, got '\(raw.stringValue ?? raw.jsonText())'")
        }
        return size
    }

    /// An optional duration parameter such as `stall_timeout: 60s`, at least `minimum`.
    public func timeSpan(_ key: String, atLeast minimum: TimeSpan = TimeSpan(milliseconds: 0)) throws -> TimeSpan? {
        guard let raw = parameters[key] else { return nil }
        guard let text = raw.stringValue, let span = TimeSpan(parsing: text), span >= minimum else {
            let bound = minimum.milliseconds > 0 ? " of \(minimum) or more" : ""
            throw location.error("stage '\(stageName)': '\(key)' must be a duration\(bound), such as 30s or 1m")
        }
        return span
    }

    /// An optional whole-number parameter within `range` (`tries: 8`, `max_entries: 10000`).
    public func wholeNumber(_ key: String, in range: ClosedRange<Int64>) throws -> Int? {
        guard let raw = parameters[key] else { return nil }
        guard let value = raw.int64Value, range.contains(value) else {
            let bounds = range.upperBound == .max ? "of \(range.lowerBound) or more" : "from \(range.lowerBound) to \(range.upperBound)"
            throw location.error("stage '\(stageName)': '\(key)' must be a whole number \(bounds)")
        }
        return Int(value)
    }
}

/// The stages `uses:` can name. The built-in module provides one; tests may provide their own.
public protocol StageCatalog: Sendable {
    var descriptors: [StageDescriptor] { get }
}

extension StageCatalog {
    public func descriptor(named name: String) -> StageDescriptor? {
        descriptors.first { $0.name == name }
    }
}
