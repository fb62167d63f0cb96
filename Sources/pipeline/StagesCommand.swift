import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

struct StagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the built-in stages and the external stage executables found."
    )

    @Argument(help: "A pipeline file, to also search its stages/ folders.")
    var file: String?

    func run() async throws {
        try await reportingErrors {
            print("Built-in stages (uses:):")
            let descriptors = BuiltinStageCatalog().descriptors
            let width = max(16, descriptors.map(\.name.count).max() ?? 0)
            for descriptor in descriptors {
                print("  \(descriptor.name.padding(toLength: width, withPad: " ", startingAt: 0)) \(descriptor.summary)")
                for parameter in descriptor.parameters {
                    print("      \(parameter.name)\(parameter.isRequired ? " (required)" : ""): \(parameter.summary)")
                }
            }
            print("External stages (run:):")
            var folders = ["stages"]
            if let file {
                let base = (PathResolver.absolute(file, relativeTo: PathResolver.currentDirectory) as NSString).deletingLastPathComponent
                folders = [base + "/stages", (base as NSString).deletingLastPathComponent + "/stages"] + folders
            }
            folders += (ProcessInfo.processInfo.environment["PIPELINE_STAGES_PATH"] ?? "").split(separator: ":").map(String.init)
            var seen = Set<String>()
            for folder in folders {
                let absolute = PathResolver.absolute(folder, relativeTo: PathResolver.currentDirectory)
                for name in ((try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? []).sorted() {
                    let path = absolute + "/" + name
                    var isFolder: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue,
                          FileManager.default.isExecutableFile(atPath: path), seen.insert(path).inserted else { continue }
                    print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(path)")
                }
            }
            if seen.isEmpty { print("  (none found in \(folders.joined(separator: ", ")))") }
            return .success
        }
    }
}
