import Foundation
import PipelineCore

/// `local-fetch`: copies an item from a local directory into the work directory.
///
/// The copy grows under a temporary name and resumes from that file's size, so a run killed
/// half-way through a 30 GB file continues at the byte where it stopped; the complete file is
/// renamed into place atomically, so a file under its final name is always whole.
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
        let source = root + "/" + segments.joined(separator: "/")
        guard let sourceSize = FileStream.size(of: source) else {
            throw StageFailure.permanent("'\(source)' no longer exists at the source")
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
        if let partialSize = FileStream.size(of: target.partial), partialSize > sourceSize {
            try FileManager.default.removeItem(atPath: target.partial)
        }
        let copier = StreamingCopy(context: context, rateLimit: rateLimit, total: sourceSize)
        let input = try FileStream(path: source, mode: .read)
        let resumedAt = FileStream.size(of: target.partial) ?? 0
        if resumedAt > 0 { context.log("resuming at byte \(resumedAt) of \(sourceSize)") }
        let (_, copied) = try copier.resume(from: input, into: target.partial)
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
