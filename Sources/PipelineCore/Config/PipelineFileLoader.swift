import Foundation
import Yams

/// Reads a pipeline file into a `PipelineFile`, or fails with an error naming `file:line:column`.
///
/// Everything that can be checked without running is checked here (keys, stage names, parameters,
/// durations, sizes, variables, executables), so `pipeline validate` and the first second of
/// `pipeline run` catch a mistake before any state is touched.
public struct PipelineFileLoader: Sendable {
    public var environment: [String: String]
    public var catalog: any StageCatalog
    /// Folders searched for a bare `run:` name, after the pipeline's own `stages/` folders.
    public var stageSearchPath: [String]
    /// For read-only commands (`status`): an unset variable reads as empty instead of failing, and
    /// stages are not built, so secrets need not be present to look at the state.
    public var lenient: Bool

    public init(environment: [String: String], catalog: any StageCatalog, stageSearchPath: [String] = [], lenient: Bool = false) {
        self.environment = environment
        self.catalog = catalog
        self.stageSearchPath = stageSearchPath
        self.lenient = lenient
    }

    static let topLevelKeys = [
        "version", "name", "state", "workdir", "concurrency", "time_budget", "max_failures", "stop_grace", "disk_budget",
        "lease", "source", "stages", "schedule",
    ]
    static let sourceKeys = ["uses", "run", "with", "include", "exclude", "max_size", "retry", "timeout"]
    static let stageKeys = ["name", "uses", "run", "with", "retry", "timeout", "irreversible", "concurrency"]
    static let retryKeys = ["attempts", "backoff", "initial", "max", "jitter"]
    static let scheduleKeys = ["order", "priority", "windows"]
    static let ruleKeys = ["match", "larger_than", "smaller_than"]
    static let windowKeys = ruleKeys + ["between", "time_zone"]

    public func load(path: String) throws -> PipelineFile {
        let absolutePath = PathResolver.absolute(path, relativeTo: PathResolver.currentDirectory)
        guard let data = FileManager.default.contents(atPath: absolutePath) else {
            throw PipelineError(.missingInput, "cannot read pipeline file '\(path)'", hint: "check the path; it is resolved against \(PathResolver.currentDirectory)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PipelineError(.configuration, "\(path): not UTF-8 text")
        }
        return try parse(text, path: absolutePath, displayName: path)
    }

    /// The most values a pipeline file may stand for, aliases expanded.
    static let valueLimit = 100_000

    /// Parses pipeline text; `displayName` is used in messages, `path` for resolving relative paths.
    public func parse(_ text: String, path: String, displayName: String) throws -> PipelineFile {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw PipelineError(.configuration, "\(displayName): the file is empty", hint: "start with 'version: 1'")
            }
            root = composed
        } catch let error as YamlError {
            throw Self.describe(error, file: displayName)
        }
        // Aliases share nodes, so a small file can stand for billions of values ("billion laughs"):
        // counted with an early stop before anything walks the tree.
        if YAMLSize.exceeds(root, limit: Self.valueLimit) {
            throw PipelineError(.configuration, "\(displayName): the file stands for more than \(Self.valueLimit) values once its YAML aliases (*name) are expanded",
                                hint: "a pipeline file needs few values; write repeated parts out, or use fewer aliases")
        }
        var reader = Reader(file: displayName, baseDirectory: (path as NSString).deletingLastPathComponent, loader: self)
        return try reader.pipeline(from: root, path: path)
    }

    private static func describe(_ error: YamlError, file: String) -> PipelineError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text)" } ?? problem
            return PipelineError(.configuration, "\(file):\(mark.line):\(mark.column): invalid YAML: \(detail)")
        default:
            return PipelineError(.configuration, "\(file): invalid YAML: \(error)")
        }
    }

    /// Walks the YAML tree; collects secrets as it interpolates.
    private struct Reader {
        let file: String
        let baseDirectory: String
        let loader: PipelineFileLoader
        var secrets: Set<String> = []

        init(file: String, baseDirectory: String, loader: PipelineFileLoader) {
            self.file = file
            self.baseDirectory = baseDirectory
            self.loader = loader
        }

        func location(_ node: Node) -> SourceLocation { YAMLMapping.location(of: node, file: file) }

        mutating func pipeline(from root: Node, path: String) throws -> PipelineFile {
            let top = try YAMLMapping(root, file: file, context: "the pipeline")
            try top.rejectUnknownKeys(PipelineFileLoader.topLevelKeys)

            let versionNode = try top.required("version")
            guard try string(versionNode, key: "version") == "1" else {
                throw location(versionNode).error("unsupported version '\(versionNode.string ?? "")'; this pipeline understands version: 1")
            }
            let name = try top["name"].map { node -> String in
                let text = try string(node, key: "name")
                // It names the pipeline in logs and states, and is a destination's default album title.
                guard (1...200).contains(text.count), !text.unicodeScalars.contains(where: \.isASCIIControl) else {
                    throw location(node).error("'name' must be 1 to 200 characters with no control characters")
                }
                return text
            } ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let state = try top["state"].map { StateLocation(try string($0, key: "state"), relativeTo: baseDirectory) }
                ?? .file(PathResolver.absolute(name + ".state", relativeTo: baseDirectory))
            if let password = state.password { secrets.insert(password) }
            let lease = try top["lease"].map { node -> TimeSpan in
                let lease = try timeSpan(node, key: "lease")
                guard PipelineFile.leaseRange.contains(lease) else {
                    throw location(node).error("'lease' must be from \(PipelineFile.leaseRange.lowerBound) to \(PipelineFile.leaseRange.upperBound): how long a runner of a shared state holds an item unless it renews the hold")
                }
                return lease
            }
            let workdir = try top["workdir"].map { try resolvedPath($0, key: "workdir") }
                ?? PathResolver.absolute("work", relativeTo: baseDirectory)
            let concurrency = try top["concurrency"].map { try integer($0, key: "concurrency", range: 1...64) } ?? 1
            let maxFailures = try top["max_failures"].map { try integer($0, key: "max_failures", range: 1...1000) } ?? 3
            let timeBudget = try top["time_budget"].map { try timeSpan($0, key: "time_budget") }
            let diskBudget = try top["disk_budget"].map { try byteSize($0, key: "disk_budget") }
            let stopGrace = try top["stop_grace"].map { try timeSpan($0, key: "stop_grace") } ?? TimeSpan(milliseconds: 3000)

            let source = try sourceDefinition(try top.required("source"))
            let stagesNode = try top.required("stages")
            guard case .sequence(let sequence) = stagesNode, !sequence.isEmpty else {
                throw location(stagesNode).error("'stages' must be a non-empty list of stages")
            }
            var stages: [StageDefinition] = []
            for stageNode in sequence {
                let stage = try stageDefinition(stageNode)
                if stages.contains(where: { $0.name == stage.name }) {
                    throw stage.location.error("two stages are named '\(stage.name)'; stage names must be unique (they key the state)")
                }
                stages.append(stage)
            }
            var pipeline = PipelineFile(
                path: path, version: 1, name: name, statePath: state.rawValue, workdir: workdir,
                concurrency: concurrency, timeBudget: timeBudget, maxFailures: maxFailures, diskBudget: diskBudget, stopGrace: stopGrace,
                source: source, stages: stages, secrets: secrets
            )
            pipeline.lease = lease
            if let schedule = top["schedule"] { pipeline.schedule = try self.schedule(schedule) }
            for key in ["workdir", "state"] { if let node = top[key] { pipeline.keyLocations[key] = location(node) } }
            if !loader.lenient {
                try StageFactory(catalog: loader.catalog).checkAll(in: pipeline)
                try FolderLayout.check(pipeline, catalog: loader.catalog)
            }
            return pipeline
        }

        mutating func sourceDefinition(_ node: Node) throws -> SourceDefinition {
            let map = try YAMLMapping(node, file: file, context: "'source'")
            try map.rejectUnknownKeys(PipelineFileLoader.sourceKeys)
            let reference = try stageReference(map, expectingSource: true)
            return SourceDefinition(
                reference: reference,
                parameters: try map["with"].map { try parameters($0) } ?? [:],
                include: try map["include"].map { try patterns($0, key: "include") } ?? [],
                exclude: try map["exclude"].map { try patterns($0, key: "exclude") } ?? [],
                maxSize: try map["max_size"].map { try byteSize($0, key: "max_size") },
                retry: try map["retry"].map { try retryPolicy($0) } ?? .default,
                timeout: try map["timeout"].map { try timeSpan($0, key: "timeout") },
                location: map.location
            )
        }

        mutating func stageDefinition(_ node: Node) throws -> StageDefinition {
            let map = try YAMLMapping(node, file: file, context: "a stage")
            try map.rejectUnknownKeys(PipelineFileLoader.stageKeys)
            let nameNode = try map.required("name")
            let name = try string(nameNode, key: "name")
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw location(nameNode).error("stage name '\(name)' may only hold letters, digits, '-', '_' and '.'")
            }
            return StageDefinition(
                name: name,
                reference: try stageReference(map, expectingSource: false),
                parameters: try map["with"].map { try parameters($0) } ?? [:],
                retry: try map["retry"].map { try retryPolicy($0) } ?? .default,
                timeout: try map["timeout"].map { try timeSpan($0, key: "timeout") },
                irreversible: try map["irreversible"].map { try bool($0, key: "irreversible") },
                concurrency: try map["concurrency"].map { try integer($0, key: "concurrency", range: 1...64) },
                location: map.location
            )
        }

        mutating func stageReference(_ map: YAMLMapping, expectingSource: Bool) throws -> StageReference {
            switch (map["uses"], map["run"]) {
            case (.some(let uses), nil):
                let name = try string(uses, key: "uses")
                let candidates = loader.catalog.descriptors.filter { $0.isSource == expectingSource }
                guard let descriptor = candidates.first(where: { $0.name == name }) else {
                    if loader.catalog.descriptor(named: name) != nil {
                        let role = expectingSource ? "an item stage, not a source" : "a source, not an item stage"
                        throw location(uses).error("'\(name)' is \(role)")
                    }
                    throw location(uses).error(NameSuggester.unknown("stage", name, valid: candidates.map(\.name)), hint: "`pipeline stages` lists them; an executable goes in 'run:'")
                }
                let keys = descriptor.parameters.map(\.name)
                if let with = map["with"], case .mapping(let parameters) = with {
                    for (key, _) in parameters {
                        let keyName = key.string ?? ""
                        guard keys.contains(keyName) else {
                            throw location(key).error(NameSuggester.unknown("parameter", keyName, valid: keys) + " for stage '\(name)'")
                        }
                    }
                }
                for parameter in descriptor.parameters where parameter.isRequired {
                    if map["with"]?[parameter.name] == nil {
                        throw map.location.error("stage '\(name)' needs 'with: { \(parameter.name): … }' (\(parameter.summary))")
                    }
                }
                return .builtin(name)
            case (nil, .some(let run)):
                return .executable(try executablePath(run))
            case (.some, .some):
                throw map.location.error("\(map.context) has both 'uses:' and 'run:'; give one")
            case (nil, nil):
                throw map.location.error("\(map.context) needs 'uses:' (a built-in stage) or 'run:' (an executable)")
            }
        }

        static func isDirectory(_ path: String) -> Bool {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
        }

        mutating func executablePath(_ node: Node) throws -> String {
            let value = try string(node, key: "run")
            if loader.lenient { return PathResolver.absolute(value, relativeTo: baseDirectory) }
            var candidates: [String]
            if value.contains("/") {
                candidates = [PathResolver.absolute(value, relativeTo: baseDirectory)]
            } else {
                candidates = [baseDirectory + "/stages", (baseDirectory as NSString).deletingLastPathComponent + "/stages"]
                    + loader.stageSearchPath
                candidates = candidates.map { PathResolver.absolute(value, relativeTo: $0) }
            }
            if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) && !Self.isDirectory($0) }) {
                return found
            }
            if let directory = candidates.first(where: Self.isDirectory) {
                throw location(node).error("'\(directory)' is a directory, not an executable", hint: "name the program inside it in 'run:'")
            }
            if let present = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) {
                throw location(node).error("'\(present)' is not executable", hint: "chmod +x '\(present)'")
            }
            throw location(node).error("no executable '\(value)' (looked at \(candidates.joined(separator: ", ")))")
        }

        mutating func retryPolicy(_ node: Node) throws -> RetryPolicy {
            let map = try YAMLMapping(node, file: file, context: "'retry'")
            try map.rejectUnknownKeys(PipelineFileLoader.retryKeys)
            let attempts = try map["attempts"].map { try integer($0, key: "attempts", range: 1...100) } ?? 3
            switch map["backoff"] {
            case .some(.sequence(let waits)):
                guard !waits.isEmpty else { throw location(map["backoff"]!).error("'backoff' list is empty") }
                return RetryPolicy(attempts: attempts, backoff: .list(try waits.map { try timeSpan($0, key: "backoff") }))
            case .some(let other) where other.string != "exponential":
                throw location(other).error("'backoff' must be a list of waits such as [30s, 60s] or 'exponential'")
            default:
                return RetryPolicy(attempts: attempts, backoff: .exponential(
                    initial: try map["initial"].map { try timeSpan($0, key: "initial") } ?? TimeSpan(milliseconds: 5000),
                    maximum: try map["max"].map { try timeSpan($0, key: "max") } ?? TimeSpan(milliseconds: 300_000),
                    jitter: try map["jitter"].map { try bool($0, key: "jitter") } ?? true
                ))
            }
        }

        // MARK: The schedule

        mutating func schedule(_ node: Node) throws -> Schedule {
            let map = try YAMLMapping(node, file: file, context: "'schedule'")
            try map.rejectUnknownKeys(PipelineFileLoader.scheduleKeys)
            var schedule = Schedule()
            if let orderNode = map["order"] {
                let text = try string(orderNode, key: "order")
                guard let order = ScheduleOrder(rawValue: text) else {
                    throw location(orderNode).error(NameSuggester.unknown("order", text, valid: ScheduleOrder.allCases.map(\.rawValue)))
                }
                schedule.order = order
            }
            if let priority = map["priority"] {
                schedule.priority = try ruleList(priority, key: "priority").map { try scheduleRule($0, context: "a 'priority' rule", keys: PipelineFileLoader.ruleKeys) }
            }
            if let windows = map["windows"] {
                schedule.windows = try ruleList(windows, key: "windows").map { try scheduleWindow($0) }
            }
            return schedule
        }

        /// The entries of `priority:` or `windows:`: a list of 1 to `ScheduleClass.ruleLimit` mappings.
        func ruleList(_ node: Node, key: String) throws -> [Node] {
            guard case .sequence(let sequence) = node, !sequence.isEmpty else {
                throw location(node).error("'\(key)' must be a non-empty list of rules such as '- match: [\"**/*.jpg\"]'")
            }
            guard sequence.count <= ScheduleClass.ruleLimit else {
                throw location(node).error("'\(key)' has \(sequence.count) rules; at most \(ScheduleClass.ruleLimit) are allowed")
            }
            return Array(sequence)
        }

        mutating func scheduleRule(_ node: Node, context: String, keys: [String]) throws -> ScheduleRule {
            let map = try YAMLMapping(node, file: file, context: context)
            try map.rejectUnknownKeys(keys)
            let rule = ScheduleRule(match: try map["match"].map { try patterns($0, key: "match") } ?? [],
                                    largerThan: try map["larger_than"].map { try byteSize($0, key: "larger_than").bytes },
                                    smallerThan: try map["smaller_than"].map { try byteSize($0, key: "smaller_than").bytes })
            guard !rule.match.isEmpty || rule.largerThan != nil || rule.smallerThan != nil else {
                throw map.location.error("\(context) needs 'match', 'larger_than' or 'smaller_than' (a rule without them is about every item)")
            }
            if let larger = rule.largerThan, let smaller = rule.smallerThan, smaller <= larger + 1 {
                throw map.location.error("\(context) can match no item: 'smaller_than' (\(ByteSize.format(smaller))) must be more than 'larger_than' (\(ByteSize.format(larger)))")
            }
            return rule
        }

        mutating func scheduleWindow(_ node: Node) throws -> ScheduleWindow {
            let rule = try scheduleRule(node, context: "a 'windows' entry", keys: PipelineFileLoader.windowKeys)
            let map = try YAMLMapping(node, file: file, context: "a 'windows' entry")
            var (zone, zoneName) = (TimeZone(identifier: "UTC")!, "UTC")
            if let zoneNode = map["time_zone"] {
                let name = try string(zoneNode, key: "time_zone")
                zoneName = name
                guard let known = TimeZone(identifier: name) else {
                    let suggestion = NameSuggester.nearest(to: name, in: TimeZone.knownTimeZoneIdentifiers).map { " (did you mean '\($0)'?)" } ?? ""
                    throw location(zoneNode).error("unknown time zone '\(name)'\(suggestion)", hint: "use an IANA name such as Europe/Berlin, America/New_York or UTC")
                }
                zone = known
            }
            let betweenNode = try map.required("between")
            let between = try string(betweenNode, key: "between")
            guard let window = DailyWindow(between: between, timeZone: zone, zoneName: zoneName) else {
                throw location(betweenNode).error("'between' must be two different times of day such as \"01:00-06:00\" or \"22:00-06:00\" (24-hour clock, 00:00 to 24:00), got '\(between)'")
            }
            return ScheduleWindow(rule: rule, window: window)
        }

        // MARK: Scalars

        /// A scalar's text with `${…}` interpolated; values of secret-looking keys or variables are remembered.
        mutating func string(_ node: Node, key: String) throws -> String {
            guard case .scalar(let scalar) = node else {
                throw location(node).error("'\(key)' must be a single value, not a list or mapping")
            }
            do {
                let (text, substitutions) = try EnvironmentInterpolator(environment: loader.environment).interpolate(scalar.string)
                let keyIsSecret = SecretRedactor.looksSecret(key)
                for substitution in substitutions where keyIsSecret || SecretRedactor.looksSecret(substitution.variable) {
                    secrets.insert(substitution.value)
                }
                if keyIsSecret { secrets.insert(text) }
                return text
            } catch .missing(let variable, let message) {
                if loader.lenient { return "" }
                throw location(node).error(
                    "environment variable \(variable) is not set" + (message.map { ": \($0)" } ?? ""),
                    hint: "export \(variable)=… before running, or write ${\(variable):-default}")
            } catch .malformed(let problem) {
                throw location(node).error(problem)
            }
        }

        mutating func integer(_ node: Node, key: String, range: ClosedRange<Int>) throws -> Int {
            let text = try string(node, key: key)
            guard let value = Int(text), range.contains(value) else {
                throw location(node).error("'\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return value
        }

        mutating func bool(_ node: Node, key: String) throws -> Bool {
            let text = try string(node, key: key)
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: throw location(node).error("'\(key)' must be true or false, got '\(text)'")
            }
        }

        mutating func timeSpan(_ node: Node, key: String) throws -> TimeSpan {
            let text = try string(node, key: key)
            guard let value = TimeSpan(parsing: text) else {
                throw location(node).error("'\(key)' must be a duration such as 90s, 5m, 2h or 5h30m, at most \(TimeSpan.longest), got '\(text)'")
            }
            return value
        }

        mutating func byteSize(_ node: Node, key: String) throws -> ByteSize {
            let text = try string(node, key: key)
            guard let value = ByteSize(parsing: text) else {
                throw location(node).error("'\(key)' must be a size such as 200MB, 20GB or 1.5GiB, got '\(text)'")
            }
            return value
        }

        mutating func resolvedPath(_ node: Node, key: String) throws -> String {
            PathResolver.absolute(try string(node, key: key), relativeTo: baseDirectory)
        }

        mutating func patterns(_ node: Node, key: String) throws -> [GlobPattern] {
            let nodes: [Node]
            if case .sequence(let sequence) = node { nodes = Array(sequence) } else { nodes = [node] }
            return try nodes.map { patternNode in
                let text = try string(patternNode, key: key)
                guard let pattern = GlobPattern(text) else {
                    throw location(patternNode).error("'\(text)' is not a valid pattern (unbalanced [ or {)")
                }
                return pattern
            }
        }

        /// A `with:` block as JSON values; plain scalars that read as numbers or booleans become those.
        mutating func parameters(_ node: Node) throws -> [String: JSONValue] {
            guard case .mapping(let mapping) = node else {
                throw location(node).error("'with' must be a mapping of parameters")
            }
            var result: [String: JSONValue] = [:]
            for (keyNode, valueNode) in mapping {
                let key = keyNode.string ?? ""
                result[key] = try jsonValue(valueNode, key: key)
            }
            return result
        }

        mutating func jsonValue(_ node: Node, key: String) throws -> JSONValue {
            switch node {
            case .scalar(let scalar):
                let text = try string(node, key: key)
                guard scalar.style == .plain, text == scalar.string else { return .string(text) }
                if ["true", "false"].contains(text) { return .bool(text == "true") }
                if text == "null" || text == "~" { return .null }
                if let number = Int64(text) { return .number(Double(number)) }
                return .string(text)
            case .sequence(let sequence):
                return .array(try sequence.map { try jsonValue($0, key: key) })
            case .mapping:
                return .object(try parameters(node))
            case .alias:
                throw location(node).error("YAML aliases are not supported in 'with'")
            }
        }
    }
}
