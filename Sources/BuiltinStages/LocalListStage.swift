import Foundation
import PipelineCore

/// `local-list`: lists the regular files under a directory, as a source.
///
/// Item paths are relative to `root` with a leading `/` (`/2024/IMG_0001.jpg`), the identity the
/// state keys on. Symbolic links to files are followed; links to directories are not, so a link
/// loop cannot trap the walk.
struct LocalListStage: SourceStage {
    static let descriptor = StageDescriptor(
        name: "local-list",
        summary: "lists the files under a local directory (source)",
        parameters: [.init("root", required: true, folder: .source, "the directory to list")],
        factory: .source { setup in LocalListStage(root: try setup.path("root")) }
    )

    let root: String

    func list(_ context: ListContext) async throws -> [SourceItem] {
        try await Blocking.run { [root] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw StageFailure.permanent("'\(root)' is not a directory")
            }
            var items: [SourceItem] = []
            try walk(directory: root, relative: "", into: &items, stop: context.stop)
            return items
        }
    }

    private func walk(directory: String, relative: String, into items: inout [SourceItem], stop: StopSignal) throws {
        try stop.check()
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw StageFailure.retryable("cannot list '\(directory)': \(error.localizedDescription)")
        }
        for name in names {
            let absolute = directory + "/" + name
            let path = relative + "/" + name
            var info = stat()
            guard lstat(absolute, &info) == 0 else { continue }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(directory: absolute, relative: path, into: &items, stop: stop)
            case S_IFREG:
                items.append(Self.item(path: path, info: info))
            case S_IFLNK:
                var target = stat()
                if stat(absolute, &target) == 0, target.st_mode & S_IFMT == S_IFREG {
                    items.append(Self.item(path: path, info: target))
                }
            default:
                continue
            }
        }
    }

    private static func item(path: String, info: stat) -> SourceItem {
        SourceItem(path: path, size: Int64(info.st_size), modified: UTCTimestamp.iso8601(seconds: Int(info.st_mtim.tv_sec)))
    }
}
