import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run every listed item through the stages, continuing where the last run stopped.",
        discussion: ExitStatus.helpText
    )

    @Argument(help: "The pipeline file (YAML).")
    var file: String

    @Option(help: "The state file (overrides 'state:').")
    var state: String?

    @Option(help: "The work directory (overrides 'workdir:').")
    var workdir: String?

    @Option(help: "Items in flight at once (overrides 'concurrency:').")
    var concurrency: Int?

    @Option(help: "Stop starting new work after this long, e.g. 5h30m (overrides 'time_budget:').")
    var timeBudget: TimeSpan?

    @Option(help: "At most this many bytes of items in flight staged locally, e.g. 40GB (overrides 'disk_budget:').")
    var diskBudget: ByteSize?

    @Flag(help: "List the source and show what would be done; change nothing.")
    var dryRun = false

    @Flag(help: "Start although the destination already holds uploads this state does not know of (a lost state): accepts duplicates.")
    var fresh = false

    @Option(help: "auto (live progress on a terminal), plain, or json.")
    var logFormat: LogFormat = .auto

    @Flag(name: .shortAndLong, help: "Print errors and the final summary only (no live progress).")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Also print every stage transition on a terminal.")
    var verbose = false

    func validate() throws {
        if quiet && verbose {
            throw ValidationError("--quiet and --verbose contradict each other: give one of them")
        }
        if logFormat == .json && (quiet || verbose) {
            throw ValidationError("--log-format json always writes every event: drop --quiet/--verbose, or use --log-format plain")
        }
        if let concurrency, !(1...64).contains(concurrency) {
            throw ValidationError("--concurrency must be from 1 to 64")
        }
    }

    func run() async throws {
        try await reportingErrors {
            let overrides = PipelineRunner.Overrides(statePath: state, workdir: workdir, concurrency: concurrency, timeBudget: timeBudget,
                                                    diskBudget: diskBudget, fresh: fresh)
            let pipeline = overrides.applied(to: try PipelineLoading.loader().load(path: file))
            let runner = PipelineRunner(catalog: BuiltinStageCatalog(), logFormat: logFormat,
                                        isTerminal: PipelineRunner.standardOutputIsTerminal(),
                                        verbosity: quiet ? .quiet : verbose ? .verbose : .normal)
            if dryRun {
                for line in try await runner.dryRun(pipeline) { print(line) }
                return .success
            }
            return try await runner.run(pipeline)
        }
    }
}
