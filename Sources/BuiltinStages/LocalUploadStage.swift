import Foundation
import PipelineCore

/// `local-upload`: places the item's file into a destination tree, at the item's path.
///
/// Idempotent: an identical file already there is success (a run killed after the placement and
/// before the state commit finds its own work); a different file there is an error — never a
/// `name (1).jpg`. The name is the source's own, byte for byte. The copy grows under a random
/// temporary name recorded before the first byte (so it resumes after a kill) and is linked into
/// place, never over an existing file.
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

    static let temporaryKey = "temporary"

    let destination: String
    let rateLimit: ByteSize?
    var isIrreversible: Bool { true }

    func run(_ context: StageContext) async throws -> StageResult {
        switch try await Blocking.run({ try copy(context) }) {
        case .done(let result):
            return result
        case .copied(let copy):
            // The one step that cannot be taken back: made sure to be this runner's first.
            try await context.beforeIrreversibleStep()
            return try await Blocking.run { try place(copy, context: context) }
        }
    }

    /// A whole copy beside its destination, to be placed there.
    private struct Copy: Sendable {
        var file: String
        var temporary: RawPath
        var destination: RawPath
        var outputs: [String: JSONValue]
    }

    private enum Copied: Sendable {
        case done(StageResult)
        case copied(Copy)
    }

    /// An upload's outputs name a file outside the work directory, so nothing is checked here.
    func outputsAreValid(_ outputs: [String: JSONValue], workdir: String) -> Bool { true }

    /// Copies the file beside its destination (resuming a copy that was cut off).
    private func copy(_ context: StageContext) throws -> Copied {
        let file = try context.requireInputFile()
        let placed = try DestinationPath(itemPath: context.item.path, root: destination)
        let outputs: [String: JSONValue] = ["destination": .string(placed.absolute.description)]
        if placed.absolute.exists {
            return .done(try identical(file, placed.absolute, context: context, outputs: outputs))
        }
        placed.directory.makeDirectories()
        let size = FileStream.size(of: file) ?? 0
        let temporary = try temporaryFile(in: placed.directory, context: context)
        if let partialSize = temporary.status().map({ Int64($0.st_size) }), partialSize > size {
            _ = temporary.withCString { unlink($0) }
        }
        let resumedAt = temporary.status().map { Int64($0.st_size) } ?? 0
        let output = try FileStream(raw: temporary, mode: temporary.exists ? .append : .create)
        if resumedAt > 0 { context.log("resuming at byte \(resumedAt) of \(size)") }
        let copier = StreamingCopy(context: context, rateLimit: rateLimit, total: size)
        _ = try copier.stream(from: try FileStream(path: file, mode: .read), startingAt: resumedAt) { (bytes) throws(StageFailure) in
            try output.write(bytes)
        }
        guard temporary.status().map({ Int64($0.st_size) }) == size else {
            throw StageFailure.retryable("copy to '\(temporary)' is incomplete")
        }
        return .copied(Copy(file: file, temporary: temporary, destination: placed.absolute, outputs: outputs))
    }

    /// Gives the whole copy its name.
    private func place(_ copy: Copy, context: StageContext) throws -> StageResult {
        // Last look before the link: a runner frozen since it renewed its lease stops here.
        try context.stop.check()
        defer { _ = copy.temporary.withCString { unlink($0) } }
        switch Self.place(copy.temporary, at: copy.destination) {
        case 0: return .done(copy.outputs)
        case EEXIST: return try identical(copy.file, copy.destination, context: context, outputs: copy.outputs)
        case let code:
            errno = code
            throw FileStream.failure("place the copy at", copy.destination.description)
        }
    }

    /// The temporary file of this item's upload: the one recorded by an attempt that was cut off,
    /// or a new random name, recorded before its first byte.
    private func temporaryFile(in directory: RawPath, context: StageContext) throws -> RawPath {
        if let name = context.checkpoint?[Self.temporaryKey]?.stringValue, DestinationPath.isTemporaryName(name) {
            return directory.appending(name)
        }
        let name = DestinationPath.temporaryName()
        try context.saveCheckpoint([Self.temporaryKey: .string(name)])
        return directory.appending(name)
    }

    /// Links the finished copy to its name, never over a file there (EEXIST); where the filesystem
    /// has no hard links (FAT, exFAT) it is renamed if the name is still free. 0 or an errno.
    static func place(_ temporary: RawPath, at target: RawPath) -> Int32 {
        if temporary.withCString({ from in target.withCString { link(from, $0) } }) == 0 { return 0 }
        let code = errno
        guard [EPERM, EOPNOTSUPP, ENOSYS].contains(code) else { return code }
        if target.exists { return EEXIST }
        return temporary.withCString({ from in target.withCString { rename(from, $0) } }) == 0 ? 0 : errno
    }

    private func identical(_ file: String, _ target: RawPath, context: StageContext, outputs: [String: JSONValue]) throws -> StageResult {
        guard try StreamingCopy.sameContent(FileStream(path: file, mode: .read), FileStream(raw: target, mode: .read), stop: context.stop) else {
            throw StageFailure.permanent("'\(target)' already exists with different content; it was left alone (move it away to upload this item)")
        }
        context.log("an identical file is already at the destination")
        return .done(outputs)
    }
}
