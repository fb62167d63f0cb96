import Foundation
import PipelineCore

/// `local-fetch`: copies an item from a local directory into the work directory.
///
/// The copy grows under a temporary name and resumes from that file's size, so a run killed
/// half-way through a 30 GB file continues at the byte where it stopped; the complete file is
/// renamed into place atomically, so a file under its final name is always whole. The source's
/// identity (size, times, inode) is recorded when a copy begins and compared after it ends: a file
/// that changed meanwhile is copied again, never spliced from two versions.
struct LocalFetchStage: Stage {
    static let descriptor = StageDescriptor(
        name: "local-fetch",
        summary: "copies the item into the work directory, resuming a partial copy at its byte offset",
        parameters: [
            .init("root", folder: .source, "the directory the item paths are relative to (default: the source's root)"),
            .init("rate_limit", "bytes per second at most, such as 20MB"),
        ],
        factory: .item { setup in
            let root = setup.parameters["root"] != nil ? try setup.path("root") : try setup.sourcePath("root")
            return LocalFetchStage(root: root, rateLimit: try setup.byteSize("rate_limit"))
        }
    )

    static let sourceKey = "source"

    let root: String
    let rateLimit: ByteSize?

    func run(_ context: StageContext) async throws -> StageResult {
        try await Blocking.run { try fetch(context) }
    }

    private func fetch(_ context: StageContext) throws -> StageResult {
        let segments = context.item.path.split(separator: "/")
        guard !segments.contains(where: { $0 == ".." || $0 == "." }) else {
            throw StageFailure.permanent("refusing the unsafe path '\(context.item.path)' (it would leave \(root))")
        }
        let source = segments.reduce(RawPath(bytes: Array(root.utf8))) { $0.appending($1) }
        guard let sourceSize = source.status().map({ Int64($0.st_size) }) else {
            throw StageFailure(.permanent, "'\(source)' no longer exists at the source", category: .remoteMissing)
        }
        guard sourceSize == context.item.size else {
            throw StageFailure.retryable("'\(source)' is \(sourceSize) bytes, but was listed with \(context.item.size); it is changing")
        }
        let target = context.target
        // Best effort: opening the partial file makes the folder again if a sibling's cleanup removed it.
        try? FileManager.default.createDirectory(atPath: target.directory, withIntermediateDirectories: true)
        if FileStream.size(of: target.absolute) == sourceSize {
            return .done(outputs(target, size: sourceSize, resumedAt: sourceSize, copied: 0))
        }
        let input = try FileStream(raw: source, mode: .read)
        let before = SourceIdentity(try input.status())
        // A partial copy is continued only from the version of the source it was begun from.
        let partialSize = FileStream.size(of: target.partial)
        if let partialSize, partialSize > sourceSize || context.checkpoint?[Self.sourceKey] != before.json {
            if partialSize > 0 { context.log("the source is not the one its partial copy began from; starting over") }
            try FileManager.default.removeItem(atPath: target.partial)
        }
        if FileStream.size(of: target.partial) == nil {
            try context.saveCheckpoint([Self.sourceKey: before.json])
        }
        let copier = StreamingCopy(context: context, rateLimit: rateLimit, total: sourceSize)
        let resumedAt = FileStream.size(of: target.partial) ?? 0
        if resumedAt > 0 { context.log("resuming at byte \(resumedAt) of \(sourceSize)") }
        let (_, copied) = try copier.resume(from: input, into: target.partial)
        // Rewritten in place: the open file's times or size moved; replaced: the name has another inode.
        let after = SourceIdentity(try input.status())
        let now = source.status().map(SourceIdentity.init) ?? after
        if after != before || now != before {
            try? FileManager.default.removeItem(atPath: target.partial)
            let what = after != before ? after.differences(from: before) : now.differences(from: before)
            throw StageFailure(.retryable, "'\(source)' changed while it was copied (\(what)); its copy was discarded and it will be copied again",
                               isAnswerAboutTheItem: true, category: .remoteMissing)
        }
        guard let finalSize = FileStream.size(of: target.partial), finalSize == sourceSize else {
            throw StageFailure.retryable("copy of '\(source)' ended at \(FileStream.size(of: target.partial) ?? 0) of \(sourceSize) bytes")
        }
        guard rename(target.partial, target.absolute) == 0 else { throw FileStream.failure("rename", target.partial) }
        return .done(outputs(target, size: sourceSize, resumedAt: resumedAt, copied: copied))
    }

    private func outputs(_ target: WorkPath, size: Int64, resumedAt: Int64, copied: Int64) -> [String: JSONValue] {
        [StageOutputs.file: .string(target.relative), StageOutputs.size: .number(Double(size)),
         "resumed_at": .number(Double(resumedAt)), "copied": .number(Double(copied))]
    }
}
