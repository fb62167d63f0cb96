import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

/// `pipeline plan`: what is left, the requests it needs under the destinations' daily quotas, the
/// days that takes and when it should be done — from the state's last listing, or, before the
/// first run, from listing the source.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Say what is left: items, bytes, requests under the daily quotas, days, and the expected finish date.",
        discussion: """
            Reads the state (the last run's listing; files added since count from the next run). Before the \
            first run it lists the source instead, so the source's variables must be set.
            """
    )

    @Argument(help: "The pipeline file.")
    var file: String

    @Option(help: "The state file (overrides the pipeline file's 'state:').")
    var state: String?

    @Flag(help: "Print the plan as JSON.")
    var json = false

    func run() async throws {
        try await reportingErrors {
            // Leniently: reading the state needs no secrets.
            let pipeline = try PipelineLoading.loader(lenient: true).load(path: file)
            let quotas = RunSettings.quotas(of: pipeline, catalog: BuiltinStageCatalog())
            let plan: TransferPlan
            if PipelineSession.exists(try PipelineSession.location(pipeline: pipeline, override: state)) {
                let session = try PipelineSession.forReading(pipeline: pipeline, stateOverride: state)
                defer { try? session.close() }
                plan = try TransferPlan(store: session.store, maxFailures: pipeline.maxFailures, quotas: quotas)
            } else {
                let strict = try PipelineLoading.loader().load(path: file)
                let limit = strict.source.maxSize?.bytes ?? .max
                let selected = try await SourceListing.selected(strict, catalog: BuiltinStageCatalog()).filter { $0.size <= limit }
                plan = TransferPlan(sizes: selected.map(\.size), quotas: quotas)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(plan), as: UTF8.self))
            } else {
                print(plan.line())
            }
            return .success
        }
    }
}
