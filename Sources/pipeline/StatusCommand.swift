import ArgumentParser
import Foundation
import PipelineCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the state: completed, failed (with attempts and last error), skipped (with reasons), in progress."
    )

    @Argument(help: "The pipeline file whose state to show.")
    var file: String?

    @Option(help: "The state file (instead of, or overriding, the pipeline file's).")
    var state: String?

    @Flag(help: "Everything as one JSON document, including each item's stage outputs.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            let pipeline = try StateLocationOptions(pipeline: file, state: state).loadPipeline()
            let session = try PipelineSession.forReading(pipeline: pipeline, stateOverride: state)
            defer { try? session.close() }
            print(json ? try StatusReport.json(session.store, maxFailures: session.maxFailures)
                       : try StatusReport.text(session.store, maxFailures: session.maxFailures))
            return .success
        }
    }
}

extension StateLocationOptions {
    init(pipeline: String?, state: String?) {
        self.init()
        self.pipeline = pipeline
        self.state = state
    }
}
