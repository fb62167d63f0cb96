import ArgumentParser
import Foundation
import PipelineCore

struct RetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Make failed (or skipped) items eligible again; their failure count starts over."
    )

    @Argument(help: "Item paths, exactly as the source lists them.")
    var paths: [String] = []

    @Flag(help: "Every failed item.")
    var allFailed = false

    @OptionGroup var location: StateLocationOptions

    func validate() throws {
        if paths.isEmpty == !allFailed { throw ValidationError("give item paths or --all-failed (not both)") }
    }

    func run() async throws {
        try await reportingErrors {
            let session = try PipelineSession.forWriting(pipeline: try location.loadPipeline(), stateOverride: location.state, create: false)
            defer { try? session.close() }
            let changed = try session.store.retry(paths: allFailed ? nil : paths, includeSkipped: !allFailed)
            print("\(changed) item\(changed == 1 ? "" : "s") will be tried again on the next run")
            if !allFailed, changed < paths.count {
                throw PipelineError(.badData, "\(paths.count - changed) of the paths are not failed or skipped items in \(session.statePath)",
                                    hint: "`pipeline status --json` lists items with their status")
            }
            return .success
        }
    }
}
