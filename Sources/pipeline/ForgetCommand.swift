import ArgumentParser
import Foundation
import PipelineCore

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Forget items, completed ones included, so the next run processes them from the start (e.g. one that never reached the destination)."
    )

    @Argument(help: "Item paths, exactly as the source lists them.")
    var paths: [String] = []

    @Flag(help: "Every failed item whose last failure says it is missing at the source (`pipeline failures` groups them).")
    var missing = false

    @OptionGroup var location: StateLocationOptions

    func validate() throws {
        if paths.isEmpty == !missing { throw ValidationError("give item paths or --missing (not both)") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try PipelineSession.forWriting(pipeline: try location.loadPipeline(), stateOverride: location.state, create: false)
            defer { try? session.close() }
            let paths = self.missing ? try FailureReport.paths(of: .remoteMissing, in: session.store) : self.paths
            var missing: [String] = []
            for path in paths where try !session.store.forget(path: path) { missing.append(path) }
            print("forgot \(paths.count - missing.count) item\(paths.count - missing.count == 1 ? "" : "s")")
            if !missing.isEmpty {
                throw PipelineError(.badData, "not in the state: \(missing.joined(separator: ", "))")
            }
            return .success
        }
    }
}
