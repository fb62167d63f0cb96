import Foundation

/// A validated pipeline file: everything `pipeline run` needs, with paths made absolute and
/// `${…}` already interpolated.
public struct PipelineFile: Sendable {
    /// The file it was read from.
    public var path: String
    public var version: Int
    public var name: String
    /// Absolute path of the state file, or the URL of a shared PostgreSQL state (see `state`).
    public var statePath: String
    /// Absolute path of the work directory where fetched files are staged.
    public var workdir: String
    /// Items in flight at once.
    public var concurrency: Int
    /// After this long no new work starts and running stages are stopped; the run exits cleanly.
    public var timeBudget: TimeSpan?
    /// Failed runs after which an item is skipped until `pipeline retry`.
    public var maxFailures: Int
    /// At most this many bytes of items in flight staged locally at once (nil: no bound).
    public var diskBudget: ByteSize?
    /// Stop this long after SIGINT/SIGTERM/the budget: stages still running then are killed.
    public var stopGrace: TimeSpan
    public var source: SourceDefinition
    public var stages: [StageDefinition]
    /// Values that must never appear in logs, errors or the state (passwords, tokens, keys).
    public var secrets: Set<String>
    /// `run --fresh`: the user accepts that the destination may already hold what this state does
    /// not know about (a lost state), and so duplicates; destinations refuse to start otherwise.
    public var fresh = false
    /// Where top-level keys (`workdir`, `state`) were written, for errors about their values.
    public var keyLocations: [String: SourceLocation] = [:]
    /// How long a runner of a shared state holds an item unless it renews the hold (`lease:`).
    public var lease: TimeSpan?
    /// Which items a run takes first, and which wait for a time window (`schedule:`).
    public var schedule = Schedule.listed

    public static let leaseRange = TimeSpan(milliseconds: 3000)...TimeSpan(milliseconds: 3_600_000)

    /// Where the state lives.
    public var state: StateLocation {
        StateLocation.isDatabaseURL(statePath) ? .database(url: statePath) : .file(statePath)
    }
}

/// What a step of the pipeline runs: a built-in stage or an executable.
public enum StageReference: Sendable, Hashable, CustomStringConvertible {
    case builtin(String)
    /// An absolute path to an executable speaking the protocol in `stages/README.md`.
    case executable(String)

    public var description: String {
        switch self {
        case .builtin(let name): return name
        case .executable(let path): return path
        }
    }
}

/// The `source:` section: what lists the items, and which of them to take.
public struct SourceDefinition: Sendable {
    public var reference: StageReference
    public var parameters: [String: JSONValue]
    public var include: [GlobPattern]
    public var exclude: [GlobPattern]
    /// Larger items are recorded as skipped, with the reason.
    public var maxSize: ByteSize?
    public var retry: RetryPolicy
    public var timeout: TimeSpan?
    public var location: SourceLocation

    /// The include and exclude patterns, as a source and a run apply them.
    public var selection: SourceSelection { SourceSelection(include: include, exclude: exclude) }
}

/// One entry of `stages:`.
public struct StageDefinition: Sendable {
    public var name: String
    public var reference: StageReference
    public var parameters: [String: JSONValue]
    public var retry: RetryPolicy
    public var timeout: TimeSpan?
    /// Overrides whether finishing this stage forbids redoing the stages before it
    /// (built-in uploads say so themselves; external upload stages should set `irreversible: true`).
    public var irreversible: Bool?
    /// How many items this stage works on at once (default: the pipeline's `concurrency`).
    public var concurrency: Int?
    public var location: SourceLocation
}
