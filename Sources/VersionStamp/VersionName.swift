import Foundation

/// The version `pipeline --version` prints, decided from what the build could learn about its source.
///
/// A tagged commit is its tag (the last in version order when several); any other commit is
/// `BASE-dev+SHORT` (`0.2.0-dev+abc1234`, SemVer build metadata); a tree with no commit information is
/// the `VERSION` file's first line, else `BASE-unknown`.
enum VersionName {
    static func decide(base: String, commit: String?, tags: [String], versionFile: String?) -> String {
        if let commit {
            if let tag = tags.max(by: { $0.compare($1, options: .numeric) == .orderedAscending }) { return tag }
            return "\(base)-dev+\(commit.prefix(7))"
        }
        if let versionFile, !versionFile.isEmpty { return versionFile }
        return "\(base)-unknown"
    }
}
