import ArgumentParser
import Foundation
import PipelineCore

struct StatePullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Copy a state (a shared PostgreSQL one) into a new state file, to go on with one runner or keep as a backup.",
        discussion: """
            Copies every item with its stage records, the metadata and the quota counters into a file that must not exist yet. \
            Runners may go on meanwhile: each item is copied as it stood when read, and items they were working on are resumed \
            by the next run on the file. The database is left as it was.
            """
    )

    @OptionGroup var location: StateLocationOptions

    @Option(help: "The new state file to write (it must not exist).")
    var to: String

    func run() async throws {
        try await reportingErrors {
            guard !StateLocation.isDatabaseURL(to) else {
                throw PipelineError(.usage, "--to takes the path of a new state file", hint: "`pipeline state push --to URL` copies a state into a database")
            }
            let path = PathResolver.absolute(to, relativeTo: PathResolver.currentDirectory)
            guard !FileManager.default.fileExists(atPath: path) else {
                throw PipelineError(.usage, "'\(path)' already exists; a state is pulled into a new file only",
                                    hint: "name a file that does not exist yet (or move the old one away first)")
            }
            let session = try PipelineSession.forReading(pipeline: try location.loadPipeline(), stateOverride: location.state)
            defer { try? session.close() }
            if let shared = session.store as? any SharedStateStore, case let busy = try shared.liveLeaseCount(), busy > 0 {
                FileHandle.standardError.write(Data("""
                    warning: runners are working on \(busy) item\(busy == 1 ? "" : "s") of \(session.statePath) right now; the copy has them \
                    as they stood, and the next run on it resumes them (stop the runners first for a copy at rest)\n
                    """.utf8))
            }
            let report = try StateCopier().copyToNewFile(from: session.store, path: path, progress: StateCopyProgress.printer())
            print("pulled \(StateCopyProgress.describe(report)) from \(session.statePath) into \(path)")
            let copy = try SQLiteStateStore(path: path, create: false, readOnly: true)
            defer { try? copy.close() }
            print(try StatusReport.text(copy, maxFailures: session.maxFailures))
            return .success
        }
    }
}
