import ArgumentParser
import Foundation
import PipelineCore

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Move state to and from the old script's upload_state.json format.",
        subcommands: [StateExportCommand.self, StateImportCommand.self]
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
            let session = try PipelineSession.forWriting(pipeline: try location.loadPipeline(), stateOverride: location.state, create: true)
            defer { try? session.close() }
            let result = try SeedStateFile.importFile(file, into: session.store)
            print("imported \(result.imported) items from \(file)" + (result.kept > 0 ? "; \(result.kept) already completed here were kept" : ""))
            print(try StatusReport.text(session.store, maxFailures: session.maxFailures))
            return .success
        }
    }
}
