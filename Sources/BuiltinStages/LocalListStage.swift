import Foundation
import Synchronization
import PipelineCore
import Transfer

/// `local-list`: lists the regular files under a directory, as a source.
///
/// Item paths are relative to `root` with a leading `/` (`/2024/IMG_0001.jpg`), the identity the
/// state keys on. Names are read as bytes: one that is not UTF-8 is carried as `FileNameBytes`
/// text, and the fetch and upload stages use its exact bytes again. Symbolic links to files are
/// followed; links to directories are not, so a link loop cannot trap the walk. A folder the
/// source's `exclude` leaves out is not entered; one that cannot be read (an unreadable
/// `lost+found` nobody excluded) is a warning naming it, not a failed listing.
struct LocalListStage: SourceStage {
    static let descriptor = StageDescriptor(
        name: "local-list",
        summary: "lists the files under a local directory (source)",
        parameters: [.init("root", required: true, folder: .source, "the directory to list")],
        factory: .source { setup in LocalListStage(root: try setup.path("root")) }
    )

    let root: String

    func list(_ context: ListContext) async throws -> [SourceItem] {
        let all = Mutex<[SourceItem]>([])
        try await list(context) { batch in all.withLock { $0 += batch } }
        return all.withLock { $0 }
    }

    func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws {
        try await Blocking.run { [root] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw StageFailure.permanent("'\(root)' is not a directory")
            }
            var walk = Walk(stop: context.stop, selection: context.selection, flush: batch)
            try walk.visit(RawPath(bytes: Array(root.utf8)), relative: "", isRoot: true)
            try walk.flushItems()
            if !walk.unreadable.isEmpty {
                let count = walk.unreadable.count
                context.log("warning: \(count) folder\(count == 1 ? "" : "s") could not be read and \(count == 1 ? "was" : "were") not listed: "
                    + walk.unreadable.map { "'\($0)'" }.joined(separator: ", ") + " (give this user read access to list them)")
            }
        }
    }

    /// One listing's walk: the items found (handed on a batch at a time) and the folders that could not be read.
    private struct Walk {
        let stop: StopSignal
        let selection: SourceSelection
        let flush: ([SourceItem]) throws -> Void
        var items: [SourceItem] = []
        var unreadable: [String] = []

        mutating func flushItems() throws {
            guard !items.isEmpty else { return }
            try flush(items)
            items = []
        }

        mutating func add(_ item: SourceItem) throws {
            items.append(item)
            if items.count >= SourceBatch.size { try flushItems() }
        }

        mutating func visit(_ directory: RawPath, relative: String, isRoot: Bool = false) throws {
            try stop.check()
            guard let names = Self.names(in: directory) else {
                let code = errno
                if isRoot { throw StageFailure.retryable("cannot list '\(directory)': \(String(cString: strerror(code)))") }
                unreadable.append("\(relative) (\(String(cString: strerror(code))))")
                return
            }
            for name in names {
                let absolute = directory.appending(bytes: name)
                let path = relative + "/" + FileNameBytes.text(name)
                var info = stat()
                guard absolute.withCString({ lstat($0, &info) }) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFDIR where selection.entersFolder(path):
                    try visit(absolute, relative: path)
                case S_IFREG:
                    try add(Self.item(path: path, info: info))
                case S_IFLNK:
                    if let target = absolute.status(), target.st_mode & S_IFMT == S_IFREG {
                        try add(Self.item(path: path, info: target))
                    }
                default:
                    continue
                }
            }
        }

        /// The entries of a folder as bytes, sorted (by their text, as before); nil with errno set
        /// when it cannot be read.
        static func names(in directory: RawPath) -> [[UInt8]]? {
            guard let handle = directory.withCString({ opendir($0) }) else { return nil }
            defer { closedir(handle) }
            var names: [(text: String, bytes: [UInt8])] = []
            errno = 0
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
                if name != [0x2E], name != [0x2E, 0x2E] { names.append((FileNameBytes.text(name), name)) }
                errno = 0
            }
            if errno != 0 { return nil }
            return names.sorted { $0.text < $1.text }.map(\.bytes)
        }

        static func item(path: String, info: stat) -> SourceItem {
            SourceItem(path: path, size: Int64(info.st_size), modified: UTCTimestamp.iso8601(seconds: Int(info.st_mtim.tv_sec)))
        }
    }
}
