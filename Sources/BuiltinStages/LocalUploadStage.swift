import Foundation
import PipelineCore

/// `local-upload`: places the item's file into a destination tree, at the item's path.
///
/// Idempotent: an identical file already there is success (a run killed after the rename and
/// before the state commit finds its own work); a different file there is an error — never a
/// `name (1).jpg`. The copy resumes like a fetch and is renamed into place atomically.
struct LocalUploadStage: Stage {
    static let descriptor = StageDescriptor(
        name: "local-upload",
        summary: "copies the item into a destination tree (atomic, idempotent, never overwrites)",
        parameters: [
            .init("destination", required: true, folder: .destination, "the directory to copy into"),
            .init("rate_limit", "bytes per second at most, such as 20MB"),
        ],
        factory: .item { setup in
            LocalUploadStage(destination: try setup.path("destination"), rateLimit: try setup.byteSize("rate_limit"))
        }
    )

    let destination: String
    let rateLimit: ByteSize?
    var isIrreversible: Bool { true }

    func run(_ context: StageContext) async throws -> StageResult {
        try await Blocking.run { try upload(context) }
    }

    /// An upload's outputs name a file outside the work directory, so nothing is checked here.
    func outputsAreValid(_ outputs: [String: JSONValue], workdir: String) -> Bool { true }

    private func upload(_ context: StageContext) throws -> StageResult {
        let file = try context.requireInputFile()
        let placed = WorkPath(itemPath: context.item.path, root: destination)
        let outputs: [String: JSONValue] = ["destination": .string(placed.absolute)]
        if FileManager.default.fileExists(atPath: placed.absolute) {
            guard try StreamingCopy.sameContent(file, placed.absolute, stop: context.stop) else {
                throw StageFailure.permanent("'\(placed.absolute)' already exists with different content; it was left alone (move it away to upload this item)")
            }
            context.log("an identical file is already at the destination")
            return .done(outputs)
        }
        try? FileManager.default.createDirectory(atPath: placed.directory, withIntermediateDirectories: true)
        let size = FileStream.size(of: file) ?? 0
        if let partialSize = FileStream.size(of: placed.partial), partialSize > size {
            try FileManager.default.removeItem(atPath: placed.partial)
        }
        let copier = StreamingCopy(context: context, rateLimit: rateLimit, total: size)
        _ = try copier.resume(from: try FileStream(path: file, mode: .read), into: placed.partial)
        guard FileStream.size(of: placed.partial) == size else {
            throw StageFailure.retryable("copy to '\(placed.partial)' is incomplete")
        }
        guard rename(placed.partial, placed.absolute) == 0 else { throw FileStream.failure("rename", placed.partial) }
        return .done(outputs)
    }
}
