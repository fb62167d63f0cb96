import Foundation
import PackagePlugin

/// Stamps the `pipeline` target with the version of the checkout it is built from (`pipeline --version`).
///
/// The command's inputs are the git files that decide the version — HEAD, the branch file it names,
/// `packed-refs`, the `refs/tags` folder — so it runs again when a commit, checkout or tag moves them, and
/// not otherwise. Sources/VersionStamp reads them and decides the version; this only names them.
@main
struct VersionStampPlugin: BuildToolPlugin {
    /// The version of the next release; untagged builds print `BASE-dev+COMMIT`.
    static let baseVersion = "0.2.0"

    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let package = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildVersion.swift")
        return [
            .buildCommand(
                displayName: "Stamping the version of \(target.name) from git HEAD",
                executable: try context.tool(named: "VersionStamp").url,
                arguments: [package.path, Self.baseVersion, output.path],
                inputFiles: Self.inputs(package: package),
                outputFiles: [output]
            )
        ]
    }

    /// The files and folders whose change can change the version, those that exist (a missing input fails a build).
    ///
    /// A ref's folder is there because git updates a ref by renaming `NAME.lock` over it, which changes the
    /// folder, also when the branch lived only in `packed-refs` until then. SwiftPM plans (runs this) again only
    /// when the package's files change, so `refs/heads` covers commits on a branch checked out after that.
    static func inputs(package: URL) -> [URL] {
        let dotGit = package.appendingPathComponent(".git")
        var gitDirectory = dotGit
        // A worktree's `.git` is a file `gitdir: PATH`; its refs live in the folder its `commondir` names.
        if let link = text(dotGit), link.hasPrefix("gitdir:") {
            gitDirectory = URL(fileURLWithPath: link.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces),
                               relativeTo: package).standardizedFileURL
        }
        var common = gitDirectory
        if let path = text(gitDirectory.appendingPathComponent("commondir")) {
            common = URL(fileURLWithPath: path, relativeTo: gitDirectory.appendingPathComponent("x")).standardizedFileURL
        }
        var inputs = [dotGit, gitDirectory.appendingPathComponent("HEAD"), common.appendingPathComponent("packed-refs"),
                      common.appendingPathComponent("refs/tags"), common.appendingPathComponent("refs/heads"),
                      package.appendingPathComponent(".git_archival.txt"), package.appendingPathComponent("VERSION")]
        if let head = text(gitDirectory.appendingPathComponent("HEAD")), head.hasPrefix("ref:") {
            let ref = common.appendingPathComponent(head.dropFirst("ref:".count).trimmingCharacters(in: .whitespaces))
            inputs += [ref, ref.deletingLastPathComponent()]
        }
        return inputs.filter { FileManager.default.fileExists(atPath: $0.path) }
    }

    private static func text(_ url: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
