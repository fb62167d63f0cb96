import Foundation

/// A git checkout read straight from its `.git`, without running git: what HEAD names and which tags point at it.
///
/// Handles a `.git` folder and a `.git` file (`gitdir: …`, as worktrees and submodules have), loose refs and
/// `packed-refs`, a detached HEAD, and annotated tags (peeled in `packed-refs`, or read from their loose object).
struct GitCheckout {
    /// The folder with this checkout's HEAD (a worktree's own folder under `.git/worktrees/`).
    let gitDirectory: URL
    /// The folder with the refs, `packed-refs` and objects every worktree shares.
    let commonDirectory: URL

    /// The checkout whose `.git` is in `directory`, or nil when there is none (a source tarball).
    init?(directory: URL) {
        let dotGit = directory.appendingPathComponent(".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue {
            gitDirectory = dotGit
        } else {
            guard let line = Self.text(dotGit), line.hasPrefix("gitdir:") else { return nil }
            let path = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
            gitDirectory = URL(fileURLWithPath: path, relativeTo: directory).standardizedFileURL
        }
        if let common = Self.text(gitDirectory.appendingPathComponent("commondir")) {
            commonDirectory = URL(fileURLWithPath: common, relativeTo: gitDirectory.appendingPathComponent("x"))
                .standardizedFileURL
        } else {
            commonDirectory = gitDirectory
        }
    }

    /// The commit HEAD names, or nil on a branch with no commit yet.
    func headCommit() -> String? {
        guard let head = Self.text(gitDirectory.appendingPathComponent("HEAD")) else { return nil }
        return resolve(head, depth: 0)
    }

    /// The tags that name `commit`, directly or through an annotated tag object.
    func tags(naming commit: String) -> [String] {
        var found: Set<String> = []
        for (name, target) in looseTags() where target == commit || peel(target) == commit {
            found.insert(name)
        }
        for (name, target) in packedRefs() where name.hasPrefix("refs/tags/") {
            if target.object == commit || target.peeled == commit || (target.peeled == nil && peel(target.object) == commit) {
                found.insert(String(name.dropFirst("refs/tags/".count)))
            }
        }
        return found.sorted()
    }

    /// A HEAD or ref file's content resolved to a commit: `ref: refs/heads/main` is followed, a hash is the answer.
    private func resolve(_ content: String, depth: Int) -> String? {
        guard content.hasPrefix("ref:") else { return Self.isObjectName(content) ? content : nil }
        guard depth < 5 else { return nil }
        let name = content.dropFirst("ref:".count).trimmingCharacters(in: .whitespaces)
        for folder in [gitDirectory, commonDirectory] {
            if let loose = Self.text(folder.appendingPathComponent(name)) { return resolve(loose, depth: depth + 1) }
        }
        return packedRefs()[name]?.object
    }

    /// `packed-refs`: each ref's object and, for an annotated tag, the commit it peels to (the `^` line after it).
    private func packedRefs() -> [String: (object: String, peeled: String?)] {
        guard let content = Self.text(commonDirectory.appendingPathComponent("packed-refs")) else { return [:] }
        var refs: [String: (object: String, peeled: String?)] = [:]
        var last: String?
        for line in content.split(separator: "\n") {
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("^"), let name = last {
                refs[name]?.peeled = String(line.dropFirst())
                continue
            }
            let fields = line.split(separator: " ", maxSplits: 1)
            guard fields.count == 2, Self.isObjectName(String(fields[0])) else { continue }
            refs[String(fields[1])] = (String(fields[0]), nil)
            last = String(fields[1])
        }
        return refs
    }

    /// Every loose file under `refs/tags/` with the object it names, by tag name (`v1.0`, `release/2`).
    private func looseTags() -> [(String, String)] {
        let root = commonDirectory.appendingPathComponent("refs/tags")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        var tags: [(String, String)] = []
        while let relative = walker.nextObject() as? String {
            if let object = Self.text(root.appendingPathComponent(relative)), Self.isObjectName(object) {
                tags.append((relative, object))
            }
        }
        return tags
    }

    /// The commit an annotated tag object points at, read from its loose object; nil for anything else.
    private func peel(_ object: String) -> String? {
        let path = commonDirectory.appendingPathComponent("objects/\(object.prefix(2))/\(object.dropFirst(2))")
        guard let compressed = FileManager.default.contents(atPath: path.path),
              let body = GitLooseObject.inflate(compressed, limit: 64 * 1024),
              let text = String(data: body, encoding: .utf8),
              text.hasPrefix("tag ")
        else { return nil }
        let lines = text.split(separator: "\n")
        guard lines.contains("type commit"),
              let objectLine = lines.first(where: { $0.contains("object ") }),
              let hash = objectLine.split(separator: " ").last,
              Self.isObjectName(String(hash))
        else { return nil }
        return String(hash)
    }

    private static func isObjectName(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }

    private static func text(_ url: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
