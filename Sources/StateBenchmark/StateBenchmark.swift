import Foundation
import PipelineCore

/// Measures what the state and the orchestration cost per item, with stages that do nothing:
/// a first run of N items through four stages, then a rerun where everything is done.
///
/// Usage: StateBenchmark ITEMS [CONCURRENCY] [--phase first|rerun|both] [--store-only]
///        StateBenchmark ITEMS [CONCURRENCY] --state-url URL [--runners R] [--store-only]
///
/// Prints one JSON object per phase, with the process's peak resident memory so far (`VmHWM`).
/// `--phase` runs one phase alone, so each gets its own process and its own peak: `rerun` needs
/// `BENCH_STATE_PATH` naming the state a `first` left there. `--store-only` makes the same five
/// commits an item needs straight on the store, one after another, without the orchestrator:
/// what is left of the first run's cost once orchestration is taken away.
///
/// `--state-url` measures a shared PostgreSQL state instead (password from
/// `PIPELINE_STATE_PASSWORD`; the database should be empty): R runner processes (default 1) do the
/// first run together, see `SharedStateBenchmark`.
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
            (0..<count).map(Self.item)
        }

        /// In batches, as the file sources list: the listing is never whole in memory.
        func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws {
            for start in stride(from: 0, to: count, by: SourceBatch.size) {
                try batch((start..<min(count, start + SourceBatch.size)).map(Self.item))
            }
        }

        static func item(_ index: Int) -> SourceItem {
            SourceItem(path: "/library/folder\(index / 500)/item\(index).jpg", size: 1000 + Int64(index), modified: "2026-01-01T00:00:00Z")
        }
    }

    /// Discards events, so terminal output does not count.
    struct NullReporter: Reporter {
        func report(_ event: RunEvent) {}
    }

    static let stageNames = ["fetch", "verify", "upload", "cleanup"]

    static func main() async throws {
        var positional: [String] = []
        var phases = ["first run", "rerun (all done)"]
        var storeOnly = false
        var stateURL: String?
        var runners = 1
        var isRunner = false
        var arguments = CommandLine.arguments.dropFirst()
        while let argument = arguments.popFirst() {
            switch argument {
            case "--store-only": storeOnly = true
            case "--state-url":
                guard let url = arguments.popFirst() else { usage("--state-url takes a postgres:// URL") }
                stateURL = url
            case "--runners":
                guard let value = arguments.popFirst().flatMap(Int.init), (1...64).contains(value) else {
                    usage("--runners takes a number from 1 to 64")
                }
                runners = value
            case "--runner": isRunner = true
            case "--phase":
                switch arguments.popFirst() {
                case "first"?: phases = ["first run"]
                case "rerun"?: phases = ["rerun (all done)"]
                case "both"?: break
                default: usage("--phase takes first, rerun or both")
                }
            default: positional.append(argument)
            }
        }
        guard let count = positional.first.flatMap(Int.init), (1...100_000_000).contains(count) else {
            usage("ITEMS must be a number from 1 to 100,000,000")
        }
        let concurrency = positional.dropFirst().first.map { Int($0) ?? 0 } ?? 4
        guard (1...1024).contains(concurrency) else { usage("CONCURRENCY must be a number from 1 to 1024") }
        if let stateURL {
            let options = SharedStateBenchmark.Options(url: stateURL, items: count, runners: runners, concurrency: concurrency, storeOnly: storeOnly)
            if isRunner { try await SharedStateBenchmark.runner(options) } else { try SharedStateBenchmark.run(options) }
            return
        }
        let directory = NSTemporaryDirectory() + "state-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let statePath = ProcessInfo.processInfo.environment["BENCH_STATE_PATH"] ?? directory + "/bench.state"
        if phases == ["rerun (all done)"], !FileManager.default.fileExists(atPath: statePath) {
            usage("--phase rerun needs BENCH_STATE_PATH naming the state of a finished first run")
        }

        for phase in phases {
            let store = try SQLiteStateStore(path: statePath)
            let clock = ContinuousClock()
            let start = clock.now
            let completedNow: Int
            if storeOnly {
                completedNow = try phase == "first run" ? commitDirectly(count, store: store) : 0
            } else {
                let settings = RunSettings(pipelineName: "bench", workdir: directory, concurrency: concurrency, maxFailures: 3,
                                           timeBudget: nil, source: nil, redactor: .none)
                let steps = stageNames.map { PipelineStep(name: $0, stage: NoOpStage()) }
                let orchestrator = Orchestrator(settings: settings, source: SyntheticSource(count: count), steps: steps, store: store,
                                                reporter: NullReporter())
                completedNow = try await orchestrator.run().completed
            }
            try store.close()
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let summary = try SQLiteStateStore(path: statePath, readOnly: true).summary(maxFailures: 3)
            guard summary.completed == count else {
                FileHandle.standardError.write(Data("expected \(count) completed, state says \(summary.completed)\n".utf8))
                exit(70)
            }
            var fields: [String: JSONValue] = [
                "phase": .string(phase), "items": .number(Double(count)), "concurrency": .number(Double(concurrency)),
                "seconds": .number(seconds), "microseconds_per_item": .number(seconds * 1e6 / Double(count)),
                "completed_this_run": .number(Double(completedNow)), "store_only": .bool(storeOnly),
            ]
            if let peak = peakResidentBytes() { fields["peak_rss_bytes"] = .number(Double(peak)) }
            print(JSONValue.object(fields).jsonText())
        }
    }

    /// Lists the items and commits, item after item, the five transactions the orchestrator makes
    /// through the four stages; returns how many items it completed.
    static func commitDirectly(_ count: Int, store: SQLiteStateStore) throws -> Int {
        for start in stride(from: 0, to: count, by: SourceBatch.size) {
            _ = try store.recordListing((start..<min(count, start + SourceBatch.size)).map(SyntheticSource.item))
        }
        for index in 0..<count { try commitItem(SyntheticSource.item(index).path, store: store) }
        return count
    }

    /// The five commits that take one item through the four stages, as the orchestrator makes them.
    static func commitItem(_ path: String, store: any StateStore) throws {
        var previous: String?
        for stage in stageNames {
            try store.commitSynchronously(previous.map { [.stageDone(path: path, stage: $0, outputs: [:])] } ?? []
                                          + [.stageStarted(path: path, stage: stage, attempt: 1)])
            previous = stage
        }
        try store.commitSynchronously([.stageDone(path: path, stage: stageNames[stageNames.count - 1], outputs: [:]),
                                       .itemCompleted(path: path, stage: stageNames.last)])
    }

    /// The process's peak resident set so far (Linux `VmHWM`), nil where /proc has none.
    static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kilobytes * 1024
    }

    static func usage(_ problem: String) -> Never {
        FileHandle.standardError.write(Data("""
            StateBenchmark: \(problem)
            usage: StateBenchmark ITEMS [CONCURRENCY] [--phase first|rerun|both] [--store-only]
                   StateBenchmark ITEMS [CONCURRENCY] --state-url URL [--runners R] [--store-only]

            """.utf8))
        exit(64)
    }
}
