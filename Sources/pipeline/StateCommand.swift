import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Move state to and from the old script's upload_state.json format or between stores (push to PostgreSQL, pull to a file); rebuild a lost state from the destination.",
        subcommands: [StateExportCommand.self, StateImportCommand.self, StateRebuildCommand.self, StatePushCommand.self, StatePullCommand.self]
    )
}

struct StateExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the state as an upload_state.json (the seed's schema)."
    )

    @OptionGroup var location: StateLocationOptions

    @Option(help: "Only 'seed' (the old script's upload_state.json) for now.")
    var format = "seed"

    @Option(name: [.customShort("o"), .long], help: "Write here instead of standard output.")
    var output: String?

    func run() async throws {
        try await reportingErrors {
            guard format == "seed" else { throw PipelineError(.usage, "unknown format '\(format)'", hint: "use --format seed") }
            let session = try PipelineSession.forReading(pipeline: try location.loadPipeline(), stateOverride: location.state)
            defer { try? session.close() }
            let text = try SeedStateFile.export(session.store)
            if let output {
                do { try text.write(toFile: output, atomically: true, encoding: .utf8) } catch {
                    throw PipelineError(.io, "cannot write '\(output)': \(error.localizedDescription)")
                }
            } else {
                print(text, terminator: "")
            }
            return .success
        }
    }
}

struct StateImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring in an upload_state.json: its completed items are never processed again; failures and skips carry over."
    )

    @Argument(help: "The upload_state.json to import.")
    var file: String

    @OptionGroup var location: StateLocationOptions

    func run() async throws {
        try await reportingErrors {
            let pipeline = try location.loadPipeline()
            let state = try PipelineSession.location(pipeline: pipeline, override: location.state)
            let existed = PipelineSession.exists(state)
            let session = try PipelineSession.forWriting(pipeline: pipeline, stateOverride: location.state, create: true)
            defer { try? session.close() }
            let result: (imported: Int, kept: Int)
            do {
                result = try SeedStateFile.importFile(file, into: session.store)
            } catch {
                // A state this import created holds nothing: it must not stay behind looking like one.
                if !existed, case .file(let statePath) = state {
                    try? session.close()
                    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: statePath + suffix) }
                }
                throw error
            }
            print("imported \(result.imported) items from \(file)" + (result.kept > 0 ? "; \(result.kept) already completed here were kept" : ""))
            print(try StatusReport.text(session.store, maxFailures: session.maxFailures))
            return .success
        }
    }
}

struct StateRebuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Rebuild a lost state from what the destination holds (Google Photos: this pipeline's albums), so nothing is uploaded twice.",
        discussion: """
            Lists the source and marks each item completed whose file name the destination holds as often as the source lists it. \
            Names held, but not as often, are recorded as skipped with the reason (retry them by path once you have looked); \
            names not held are left for the next run. Items the state already records as completed are left as they are.
            """
    )

    @Argument(help: "The pipeline file.")
    var file: String

    @Option(help: "The state file (overrides 'state:').")
    var state: String?

    func run() async throws {
        try await reportingErrors {
            let pipeline = try PipelineLoading.loader().load(path: file)
            let session = try PipelineSession.forWriting(pipeline: pipeline, stateOverride: state, create: true)
            defer { try? session.close() }
            try session.claim(for: pipeline)
            let redactor = SecretRedactor(secrets: pipeline.secrets)
            let report = try await StateRebuilder(catalog: BuiltinStageCatalog()).rebuild(pipeline, store: session.store) { line in
                print(redactor.redact(line))
            }
            print("""
                rebuilt from the destination: \(report.completed) completed, \(report.toUpload) not there yet (the next run uploads them), \
                \(report.ambiguous.count) ambiguous (skipped: look, then `pipeline retry PATH`), \(report.alreadyCompleted) already completed in the state
                """)
            for path in report.ambiguous.prefix(50) { print("  ambiguous: \(redactor.redact(path))") }
            print(try StatusReport.text(session.store, maxFailures: session.maxFailures))
            return .success
        }
    }
}
