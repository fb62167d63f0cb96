import ArgumentParser
import Foundation
import PipelineCore

struct FailuresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failures",
        abstract: "Group the failed items by category, folder, extension and repeated message, flag the persistent ones, and suggest a fix for each group.",
        discussion: "Exits 0 when no item has failed, 1 when some have."
    )

    @Argument(help: "The pipeline file whose state to read.")
    var file: String?

    @Option(help: "The state file (instead of, or overriding, the pipeline file's).")
    var state: String?

    @Flag(help: "One JSON document (docs/json-output.md).")
    var json = false

    @Option(help: "Most groups of each kind to show (1-1000).")
    var limit = 10

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1-1000, not \(limit)") }
    }

    func run() async throws {
        try await reportingErrors {
            let pipeline = try StateLocationOptions(pipeline: file, state: state).loadPipeline()
            let session = try PipelineSession.forReading(pipeline: pipeline, stateOverride: state)
            defer { try? session.close() }
            let analysis = try FailureReport.analyse(session.store, selection: pipeline?.source.selection ?? .everything)
            print(json ? FailureReport.json(analysis, limit: limit) : FailureReport.text(analysis, limit: limit))
            return analysis.failed == 0 ? .success : .itemsFailed
        }
    }
}
