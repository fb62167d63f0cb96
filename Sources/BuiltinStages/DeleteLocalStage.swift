import Foundation
import PipelineCore

/// `delete-local`: removes the item's files from the work directory, and folders left empty.
///
/// A file already gone is fine: the stage may run again after a run was cut off.
struct DeleteLocalStage: Stage {
    static let descriptor = StageDescriptor(
        name: "delete-local",
        summary: "deletes the item's local file (and empty folders) from the work directory",
        parameters: [],
        factory: .item { _ in DeleteLocalStage() }
    )

    func run(_ context: StageContext) async throws -> StageResult {
        for path in [context.inputFile, context.target.absolute, context.target.partial].compactMap({ $0 }) {
            guard path.hasPrefix(context.workdir + "/") else { continue }
            do {
                try FileManager.default.removeItem(atPath: path)
            } catch CocoaError.fileNoSuchFile {
                continue
            } catch {
                if FileManager.default.fileExists(atPath: path) {
                    throw StageFailure.retryable("cannot delete '\(path)': \(error.localizedDescription)")
                }
            }
        }
        // rmdir(2) removes a folder only while it is empty, so a folder another item is just
        // filling is left alone (FileManager.removeItem would delete it with its contents).
        var directory = context.target.directory
        while directory.hasPrefix(context.workdir + "/"), rmdir(directory) == 0 {
            directory = (directory as NSString).deletingLastPathComponent
        }
        return .done([:])
    }
}
