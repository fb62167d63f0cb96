import ArgumentParser
import Foundation
import PipelineCore

struct StatePushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Copy a state into a PostgreSQL database, so several runners can share the job (`run --state URL`).",
        discussion: """
            Copies every item with its stage records, the metadata (stage memories such as the album ledger) and the quota \
            counters. The target must hold no state, or, with --replace, one of the same pipeline (no runner at work on it). \
            The password comes from PIPELINE_STATE_PASSWORD or the URL and is never printed. The source is left as it was: \
            run on the database from now on, and pull it back with `pipeline state pull`.
            """
    )

    @OptionGroup var location: StateLocationOptions

    @Option(help: "The PostgreSQL state to copy into: postgres://USER@HOST/DATABASE (password in PIPELINE_STATE_PASSWORD).")
    var to: String

    @Flag(help: "Replace the state the database holds, if it is of the same pipeline.")
    var replace = false

    func run() async throws {
        try await reportingErrors {
            guard StateLocation.isDatabaseURL(to) else {
                throw PipelineError(.usage, "--to takes a postgres:// (or postgresql://) URL",
                                    hint: "`pipeline state pull --to FILE` copies a state into a file")
            }
            let target = StateLocation.database(url: to)
            let pipeline = try location.loadPipeline()
            let source = try PipelineSession.location(pipeline: pipeline, override: location.state)
            guard PipelineSession.exists(source) else {
                throw PipelineError(.missingInput, "no state at '\(source)' to push", hint: "a state file is created by the first `pipeline run`")
            }
            guard source.description != target.description else {
                throw PipelineError(.usage, "the state is already \(target); nothing to push")
            }
            // A state file is held (its lock) for the copy, so no run changes it meanwhile.
            let session = if case .file = source {
                try PipelineSession.forWriting(pipeline: pipeline, stateOverride: location.state, create: false)
            } else {
                try PipelineSession.forReading(pipeline: pipeline, stateOverride: location.state)
            }
            defer { try? session.close() }
            let store = try PipelineSession.openDatabase(to, create: true)
            defer { try? store.close() }
            let sourceOwner = try session.store.metadata(PipelineSession.ownerKey) ?? pipeline?.name
            let decision = try StatePushDecision.decide(
                target: .init(holdsNothing: StateCopier.holdsNothing(store), owner: store.metadata(PipelineSession.ownerKey),
                              liveLeases: store.liveLeaseCount(), description: target.description),
                sourceOwner: sourceOwner, replace: replace)
            if decision.replaces { try store.removeEverything() }
            let report = try StateCopier().copy(from: session.store, to: store, progress: StateCopyProgress.printer())
            print("pushed \(StateCopyProgress.describe(report)) from \(session.statePath) to \(target)\(decision.replaces ? " (its former state replaced)" : "")")
            print("runners go on with `pipeline run --state \(target)`; \(session.statePath) was left as it was (do not run on both)")
            print(try StatusReport.text(store, maxFailures: session.maxFailures))
            return .success
        }
    }
}
