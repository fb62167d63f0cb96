import PipelineCore

/// Where an item goes in a destination tree: at its path, under exactly the bytes the source
/// named it (`a%41.jpg` stays `a%41.jpg`, `caf\xE9.jpg` stays Latin-1). A path that would leave the
/// tree (`.` or `..` segments) or that no file can have (a NUL byte) is refused, not rewritten.
struct DestinationPath {
    let root: RawPath
    let absolute: RawPath

    init(itemPath: String, root: String) throws(StageFailure) {
        let segments = itemPath.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.isEmpty, !segments.contains(where: { $0 == "." || $0 == ".." }) else {
            throw .permanent("refusing the path '\(itemPath)': it would leave the destination \(root)")
        }
        guard !itemPath.utf8.contains(0) else {
            throw .permanent("refusing the path '\(itemPath.replacingOccurrences(of: "\0", with: "\\0"))': a file name cannot hold a NUL byte")
        }
        self.root = RawPath(bytes: Array(root.utf8))
        absolute = segments.reduce(self.root) { $0.appending($1) }
    }

    var directory: RawPath { absolute.parent }

    /// A temporary file's name in the item's folder, chosen at random: it is created exclusively
    /// (never an existing file) and placed with link(2) (never over an existing file), so even a
    /// source holding such a name cannot have its file mixed with another.
    static func temporaryName() -> String {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<2).map { _ in String(random.next() as UInt64, radix: 16).leftPadded(to: 16) }.joined()
        return ".pipeline-upload-\(hex).partial"
    }

    /// Whether `name` is one `temporaryName()` makes (a checkpoint is trusted only for such names).
    static func isTemporaryName(_ name: String) -> Bool {
        name.hasPrefix(".pipeline-upload-") && name.hasSuffix(".partial") && name.utf8.count == 17 + 32 + 8
            && name.dropFirst(17).dropLast(8).allSatisfy(\.isHexDigit)
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
