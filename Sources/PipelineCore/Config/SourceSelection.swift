/// Which listed files a run takes: the source's `include` and `exclude` patterns.
///
/// A file is taken when it matches an include pattern (or there are none) and neither it nor any
/// folder above it matches an exclude pattern. So, as in `.gitignore`, excluding a folder leaves
/// out everything in it — `exclude: ["lost+found", "**/.*"]` drops a `lost+found` folder and every
/// hidden folder whole — and a source need not even enter it (`entersFolder`): an unreadable
/// excluded folder is no warning and costs no listing.
public struct SourceSelection: Sendable {
    public var include: [GlobPattern]
    public var exclude: [GlobPattern]

    public static let everything = SourceSelection(include: [], exclude: [])

    public init(include: [GlobPattern], exclude: [GlobPattern]) {
        self.include = include
        self.exclude = exclude
    }

    /// Whether the file at `path` is taken.
    public func selects(path: String) -> Bool {
        var folders: [Substring: Bool] = [:]
        return selects(path: path, folders: &folders)
    }

    /// The taken items of a listing, in order, each path once (a source listing one twice is
    /// not trusted to mean two files). Folder decisions are made once per folder.
    public func select(_ items: [SourceItem]) -> [SourceItem] {
        var seen = Set<String>()
        var folders: [Substring: Bool] = [:]
        return items.filter { seen.insert($0.path).inserted && selects(path: $0.path, folders: &folders) }
    }

    /// Whether a source should go into the folder at `path` (no trailing slash): false when an
    /// exclude pattern leaves the folder out, and with it everything below.
    public func entersFolder(_ path: String) -> Bool {
        !exclude.contains { $0.matches(path) }
    }

    private func selects(path: String, folders: inout [Substring: Bool]) -> Bool {
        if !include.isEmpty, !include.contains(where: { $0.matches(path) }) { return false }
        if exclude.isEmpty { return true }
        if exclude.contains(where: { $0.matches(path) }) { return false }
        var rest = path.startIndex
        while let slash = path[rest...].firstIndex(of: "/") {
            let folder = path[..<slash]
            rest = path.index(after: slash)
            if folder.isEmpty { continue }
            if folders[folder] == nil { folders[folder] = entersFolder(String(folder)) }
            if folders[folder] == false { return false }
        }
        return true
    }
}
