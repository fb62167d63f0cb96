import Foundation
import PipelineCore

/// Measures what the state and the orchestration cost per item, with stages that do nothing:
/// a first run of N items through four stages, then a rerun where everything is done.
///
/// Usage: StateBenchmark ITEMS [CONCURRENCY]. Prints one JSON object per measurement.
@main
struct StateBenchmark {
    /// A stage that returns at once, so only the pipeline's own cost is measured.
    struct NoOpStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult { .done([:]) }
    }

    /// A source that lists N made-up items without touching the disk.
    struct SyntheticSource: SourceStage {
        let count: Int
        func list(_ context: ListContext) async throws -> [SourceItem] {
            (0..<count).map { SourceItem(path: "/library/folder\($0 / 500)/item\($0).jpg", size: 1000 + Int64($0), modified: "2026-01-01T00:00:00Z") }
        }
    }

    /// Discards events, so terminal output does not count.
    struct NullReporter: Reporter {
        func report(_ event: RunEvent) {}
    }

    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard let count = arguments.first.flatMap(Int.init) else {
            FileHandle.standardError.write(Data("usage: StateBenchmark ITEMS [CONCURRENCY]\n".utf8))
            exit(64)
        }
        let concurrency = arguments.dropFirst().first.flatMap(Int.init) ?? 4
        let directory = NSTemporaryDirectory() + "state-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let statePath = ProcessInfo.processInfo.environment["BENCH_STATE_PATH"] ?? directory + "/bench.state"

        for phase in ["first run", "rerun (all done)"] {
            let store = try SQLiteStateStore(path: statePath)
            let settings = RunSettings(pipelineName: "bench", workdir: directory, concurrency: concurrency, maxFailures: 3,
                                       timeBudget: nil, source: nil, redactor: .none)
            let steps = ["fetch", "verify", "upload", "cleanup"].map { PipelineStep(name: $0, stage: NoOpStage()) }
            let orchestrator = Orchestrator(settings: settings, source: SyntheticSource(count: count), steps: steps, store: store,
                                            reporter: NullReporter())
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = try await orchestrator.run()
            try store.close()
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let summary = try SQLiteStateStore(path: statePath, readOnly: true).summary(maxFailures: 3)
            guard summary.completed == count else {
                FileHandle.standardError.write(Data("expected \(count) completed, state says \(summary.completed)\n".utf8))
                exit(70)
            }
            let line: JSONValue = [
                "phase": .string(phase), "items": .number(Double(count)), "concurrency": .number(Double(concurrency)),
                "seconds": .number(seconds), "microseconds_per_item": .number(seconds * 1e6 / Double(count)),
                "completed_this_run": .number(Double(outcome.completed)),
            ]
            print(line.jsonText())
        }
    }
}
