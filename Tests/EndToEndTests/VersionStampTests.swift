import Foundation
import Testing

extension EndToEnd {
/// Sources/VersionStamp (what `pipeline --version` is built from) against real repositories made with git.
@Suite("Version stamp")
struct VersionStampTests {
    /// The tool SwiftPM builds for the plugin, beside the `pipeline` binary.
    static let tool = URL(fileURLWithPath: PipelineProcess.binary).deletingLastPathComponent().path + "/VersionStamp-tool"

    /// The version the stamp gives `directory`, read back from the Swift file it writes.
    static func version(of directory: String) throws -> String {
        let output = directory + ".BuildVersion.swift"
        try Command.output([tool, directory, "1.2.3", output])
        let source = try String(contentsOfFile: output, encoding: .utf8)
        guard let line = source.split(separator: "\n").first(where: { $0.contains("static let text") }),
              let open = line.firstIndex(of: "\""), let close = line.lastIndex(of: "\""), open < close
        else { throw SandboxError("no version in \(source)") }
        return String(line[line.index(after: open)..<close])
    }

    static func git(_ arguments: String..., in directory: String) throws -> String {
        try Command.output(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main",
                            "-c", "tag.gpgSign=false", "-c", "commit.gpgSign=false"] + arguments, in: directory)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func repository(in sandbox: Sandbox) throws -> (path: String, commit: String) {
        let path = sandbox.root + "/repo"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        _ = try git("init", "-q", in: path)
        _ = try git("commit", "-q", "--allow-empty", "-m", "first", in: path)
        return (path, try git("rev-parse", "--short=7", "HEAD", in: path))
    }

    @Test func anUntaggedCommitIsTheBaseVersionWithItsShortHashLooseOrPacked() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (repo, commit) = try Self.repository(in: sandbox)
        #expect(try Self.version(of: repo) == "1.2.3-dev+\(commit)")
        _ = try Self.git("pack-refs", "--all", in: repo)
        #expect(try Self.version(of: repo) == "1.2.3-dev+\(commit)", "a branch only in packed-refs")
        _ = try Self.git("checkout", "-q", "--detach", in: repo)
        #expect(try Self.version(of: repo) == "1.2.3-dev+\(commit)", "a detached HEAD")
    }

    @Test func aTaggedCommitIsItsTagLightweightAnnotatedLooseOrPacked() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (repo, _) = try Self.repository(in: sandbox)
        _ = try Self.git("tag", "v1.0.0", in: repo)
        #expect(try Self.version(of: repo) == "v1.0.0")
        _ = try Self.git("tag", "-d", "v1.0.0", in: repo)
        _ = try Self.git("tag", "-a", "v2.0.0", "-m", "release", in: repo)
        #expect(try Self.version(of: repo) == "v2.0.0", "an annotated tag, loose")
        _ = try Self.git("pack-refs", "--all", in: repo)
        #expect(try Self.version(of: repo) == "v2.0.0", "an annotated tag, packed")
        _ = try Self.git("tag", "-a", "v10.0.0", "-m", "release", in: repo)
        #expect(try Self.version(of: repo) == "v10.0.0", "the last of several tags in version order")
        _ = try Self.git("commit", "-q", "--allow-empty", "-m", "after", in: repo)
        let after = try Self.git("rev-parse", "--short=7", "HEAD", in: repo)
        #expect(try Self.version(of: repo) == "1.2.3-dev+\(after)", "a commit after the tag")
    }

    @Test func aWorktreeNamesItsOwnHead() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (repo, commit) = try Self.repository(in: sandbox)
        let worktree = sandbox.root + "/worktree"
        _ = try Self.git("worktree", "add", "-q", "-b", "other", worktree, in: repo)
        _ = try Self.git("commit", "-q", "--allow-empty", "-m", "on the worktree", in: worktree)
        let other = try Self.git("rev-parse", "--short=7", "HEAD", in: worktree)
        #expect(try Self.version(of: worktree) == "1.2.3-dev+\(other)")
        #expect(try Self.version(of: repo) == "1.2.3-dev+\(commit)")
    }

    @Test func aSourceTarballIsNamedByItsArchivalFileElseVersionElseUnknown() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (repo, _) = try Self.repository(in: sandbox)
        try "commit: $Format:%H$\nrefs: $Format:%D$\n".write(toFile: repo + "/.git_archival.txt", atomically: true, encoding: .utf8)
        try ".git_archival.txt export-subst\n".write(toFile: repo + "/.gitattributes", atomically: true, encoding: .utf8)
        _ = try Self.git("add", ".", in: repo)
        _ = try Self.git("commit", "-q", "-m", "archival", in: repo)
        let commit = try Self.git("rev-parse", "--short=7", "HEAD", in: repo)
        #expect(try Self.version(of: repo) == "1.2.3-dev+\(commit)", "a checkout reads .git, not the unsubstituted file")
        // As GitHub serves an action's source: `git archive`, no .git.
        let tarball = sandbox.root + "/untagged"
        try FileManager.default.createDirectory(atPath: tarball, withIntermediateDirectories: true)
        _ = try Command.output(["sh", "-c", "git -C \"$1\" archive HEAD | tar -x -C \"$2\"", "sh", repo, tarball])
        #expect(try Self.version(of: tarball) == "1.2.3-dev+\(commit)")
        _ = try Self.git("tag", "v3.1.0", in: repo)
        let tagged = sandbox.root + "/tagged"
        try FileManager.default.createDirectory(atPath: tagged, withIntermediateDirectories: true)
        _ = try Command.output(["sh", "-c", "git -C \"$1\" archive v3.1.0 | tar -x -C \"$2\"", "sh", repo, tagged])
        #expect(try Self.version(of: tagged) == "v3.1.0")

        let plain = sandbox.root + "/plain"
        try FileManager.default.createDirectory(atPath: plain, withIntermediateDirectories: true)
        try "commit: $Format:%H$\nrefs: $Format:%D$\n".write(toFile: plain + "/.git_archival.txt", atomically: true, encoding: .utf8)
        #expect(try Self.version(of: plain) == "1.2.3-unknown")
        try "1.2.3-vendored\n".write(toFile: plain + "/VERSION", atomically: true, encoding: .utf8)
        #expect(try Self.version(of: plain) == "1.2.3-vendored")
    }
}
}
