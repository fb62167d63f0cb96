import Foundation

/// `.git_archival.txt` as `git archive` leaves it (export-subst): the commit and ref names of the tree a
/// source tarball was made from — how GitHub downloads an action. Unsubstituted (`$Format:…$`) it says nothing.
struct GitArchival {
    let commit: String
    let tags: [String]

    init?(file: URL) {
        guard let data = FileManager.default.contents(atPath: file.path),
              let text = String(data: data, encoding: .utf8), !text.contains("$Format:")
        else { return nil }
        var commit: String?
        var tags: [String] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("commit:") {
                commit = line.dropFirst("commit:".count).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("refs:") {
                // `%D`: "HEAD -> main, tag: v1.0, origin/main".
                tags = line.dropFirst("refs:".count).split(separator: ",")
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { $0.hasPrefix("tag: ") }
                    .map { String($0.dropFirst("tag: ".count)) }
            }
        }
        guard let commit, commit.count >= 7, commit.allSatisfy(\.isHexDigit) else { return nil }
        self.commit = commit
        self.tags = tags.sorted()
    }
}
