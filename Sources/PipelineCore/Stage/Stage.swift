/// A step that every item goes through: fetch, verify, upload, cleanup, or anything else.
///
/// Built-in stages implement this in Swift; `ExternalStage` puts an executable behind the same face.
/// A stage must be safe to run again after being cut off at any point: the orchestrator reruns the
/// stage an item was in when a run was killed.
public protocol Stage: Sendable {
    /// True when finishing this stage has an effect outside the work directory that must not be
    /// repeated (an upload): once it is done, the stages before it are never redone for the item,
    /// whatever else was lost.
    var isIrreversible: Bool { get }

    /// Does the work for one item. Throws `StageFailure` to say whether a retry may help.
    func run(_ context: StageContext) async throws -> StageResult

    /// Whether outputs recorded by an earlier run can still be relied on (the fetched file still
    /// exists with its size). An invalid output sends the item back to this stage.
    func outputsAreValid(_ outputs: [String: JSONValue], workdir: String) -> Bool
}

extension Stage {
    public var isIrreversible: Bool { false }

    public func outputsAreValid(_ outputs: [String: JSONValue], workdir: String) -> Bool {
        StageOutputs.fileIsPresent(outputs, workdir: workdir)
    }
}

/// What a finished stage hands back.
public enum StageResult: Sendable, Equatable {
    /// Done; the outputs are recorded with the transition and passed to later stages.
    case done([String: JSONValue])
    /// The item is not for this pipeline (an unsupported type, too large for the destination):
    /// it is recorded as skipped with the reason, not as a failure.
    case skip(reason: String)
}

/// The stage that lists the items (`source:`).
public protocol SourceStage: Sendable {
    func list(_ context: ListContext) async throws -> [SourceItem]

    /// Lists in batches as the source yields them, handing each to `batch` (on the listing's own
    /// thread) before going on, so a listing of millions is never whole in memory. A throw from
    /// `batch` ends the listing with that error. By default: the whole listing as one batch.
    func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws
}

extension SourceStage {
    public func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws {
        try batch(try await list(context))
    }
}

/// How many items a source hands over at a time when it lists in batches.
public enum SourceBatch {
    public static let size = 1000
}

/// One listed file. Its `path` is its identity across runs, exactly as the source reports it.
public struct SourceItem: Sendable, Hashable, Codable {
    public var path: String
    public var size: Int64
    /// Modification time as the source reports it (ISO 8601 in UTC where known).
    public var modified: String?
    /// Anything else the source knows (checksums, ids), passed to stages as `item.extra`.
    public var extra: [String: JSONValue]

    /// The file's name: the last part of its path, as messages and destinations show it.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }

    public init(path: String, size: Int64, modified: String? = nil, extra: [String: JSONValue] = [:]) {
        self.path = path
        self.size = size
        self.modified = modified
        self.extra = extra
    }
}

/// Conventions for outputs that several stages understand.
public enum StageOutputs {
    /// The key of an output naming a file in the work directory (relative to it).
    public static let file = "file"
    public static let size = "size"

    /// True unless the outputs name a work file that is missing or has another size.
    public static func fileIsPresent(_ outputs: [String: JSONValue], workdir: String) -> Bool {
        guard let relative = outputs[file]?.stringValue else { return true }
        let absolute = workdir + "/" + relative
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: absolute) else { return false }
        guard let expected = outputs[size]?.int64Value else { return true }
        return (attributes[.size] as? NSNumber)?.int64Value == expected
    }
}

import Foundation
