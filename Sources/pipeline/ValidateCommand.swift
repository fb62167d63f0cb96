import ArgumentParser
import Foundation
import PipelineCore

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file (keys, stages, parameters, variables, durations, sizes) without running anything."
    )

    @Argument(help: "The pipeline file (YAML).")
    var file: String

    func run() async throws {
        try await reportingErrors {
            let pipeline = try PipelineLoading.loader().load(path: file)
            let stages = pipeline.stages.map { "\($0.name) (\($0.reference))" }.joined(separator: " → ")
            print("\(file): valid — source \(pipeline.source.reference) → \(stages)")
            print("  state: \(pipeline.state)\n  workdir: \(pipeline.workdir)\n  concurrency: \(pipeline.concurrency), max_failures: \(pipeline.maxFailures)"
                  + (pipeline.timeBudget.map { ", time_budget: \($0)" } ?? ""))
            return .success
        }
    }
}
