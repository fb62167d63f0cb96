import Foundation
import PipelineCore
import Synchronization

/// The benchmark on a state several runners share (PostgreSQL): R runner processes on one empty
/// database, each with the real orchestrator over no-op stages (or, `storeOnly`, claiming and
/// committing straight on the store), until all N items are done.
///
/// Processes rather than R stores in one process: that is how runners meet in practice (one per
/// machine or CI job), each with its own connection, memory and scheduler, so the peak RSS of each
/// is the number a user sees, and nothing in one process (a lock, the cooperative pool) is shared
/// between runners that would not share it for real.
///
/// The coordinator (`run`) starts the runners (this executable again, with `--runner`) and waits
/// for them; each runner prints one JSON line with its counts, times and peak RSS; the coordinator
/// checks the state holds N completed items and prints one JSON line for the whole.
enum SharedStateBenchmark {
    struct Options {
        var url: String
        var items: Int
        var runners: Int
        var concurrency: Int
        var storeOnly: Bool
        var password: String? { ProcessInfo.processInfo.environment["PIPELINE_STATE_PASSWORD"] }
        /// Items a store-only runner claims at once: the orchestrator's items in flight (each stage's concurrency).
        var claimBatch: Int { concurrency * StateBenchmark.stageNames.count }
    }

    static let maxFailures = 3

    // MARK: The coordinator

    static func run(_ options: Options) throws {
        var listingSeconds: Double?
        if options.storeOnly {
            // Store only: the listing is made here first, timed apart, so the runners only claim and commit.
            let store = try open(options)
            let start = Date()
            let generation = try store.beginListing()
            var index = 0
            while index < options.items {
                let end = min(index + 1000, options.items)
                _ = try store.recordListing((index..<end).map(StateBenchmark.SyntheticSource.item), generation: generation)
                index = end
            }
            try store.finishListing(generation)
            listingSeconds = Date().timeIntervalSince(start)
            try store.close()
        }

        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var arguments = [String(options.items), String(options.concurrency), "--state-url", options.url, "--runner"]
        if options.storeOnly { arguments.append("--store-only") }
        var children: [(process: Process, output: Pipe)] = []
        for _ in 0..<options.runners {
            let process = Process()
            process.executableURL = executable
            process.arguments = arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            children.append((process, output))
        }
        var reports: [[String: JSONValue]] = []
        for (process, output) in children {
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0,
                  let object = (try? JSONValue.parse(String(decoding: data, as: UTF8.self)))?.objectValue else {
                fail("runner \(process.processIdentifier) ended with status \(process.terminationStatus) and no report (its errors are above)")
            }
            reports.append(object)
        }

        let store = try open(options)
        let summary = try store.summary(maxFailures: maxFailures)
        try store.close()
        guard summary.completed == options.items else { fail("expected \(options.items) completed, the shared state says \(summary.completed)") }

        func numbers(_ key: String) -> [Double] {
            reports.compactMap { report in if case .number(let value)? = report[key] { value } else { nil } }
        }
        func total(_ key: String) -> Double { numbers(key).reduce(0, +) }
        guard let first = numbers("started").min(), let last = numbers("ended").max() else { fail("the runners' reports have no times") }
        let seconds = last - first
        if !options.storeOnly, let listed = numbers("listed_at").min() { listingSeconds = listed - first }
        let peaks = numbers("peak_rss_bytes")
        var fields: [String: JSONValue] = [
            "mode": .string(options.storeOnly ? "store only" : "orchestrator"), "items": .number(Double(options.items)),
            "runners": .number(Double(options.runners)), "concurrency": .number(Double(options.concurrency)),
            "seconds": .number(seconds), "microseconds_per_item": .number(seconds * 1e6 / Double(options.items)),
            "items_per_second": .number(Double(options.items) / seconds),
            "commits_per_second": .number(total("commits") / seconds),
            "transitions_per_second": .number(total("transitions") / seconds),
            "claims_per_second": .number(total("claims") / seconds),
            "claimed_items_per_second": .number(total("claimed_items") / seconds),
            "peak_rss_per_runner": .array(peaks.map { .number($0) }),
        ]
        for key in ["commits", "transitions", "claims", "claimed_items", "renewals", "releases", "listing_batches"] {
            fields[key] = .number(total(key))
        }
        if let peak = peaks.max() { fields["peak_rss_bytes"] = .number(peak) }
        if let listingSeconds { fields["listing_seconds"] = .number(listingSeconds) }
        if let own = StateBenchmark.peakResidentBytes() { fields["coordinator_peak_rss_bytes"] = .number(Double(own)) }
        print(JSONValue.object(fields).jsonText())
    }

    // MARK: A runner

    /// One runner process: works until nothing is left, then prints its report.
    static func runner(_ options: Options) async throws {
        let store = CountingStateStore(try open(options))
        let reporter = ListingClock()
        let started = Date().timeIntervalSince1970
        let completed: Int
        if options.storeOnly {
            completed = try claimAndCommit(store, batch: options.claimBatch)
        } else {
            let directory = NSTemporaryDirectory() + "state-bench-\(getpid())"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let settings = RunSettings(pipelineName: "bench", workdir: directory, concurrency: options.concurrency, maxFailures: maxFailures,
                                       timeBudget: nil, source: nil, redactor: .none)
            let steps = StateBenchmark.stageNames.map { PipelineStep(name: $0, stage: StateBenchmark.NoOpStage()) }
            let orchestrator = Orchestrator(settings: settings, source: StateBenchmark.SyntheticSource(count: options.items), steps: steps,
                                            store: store, reporter: reporter)
            completed = try await orchestrator.run().completed
        }
        let ended = Date().timeIntervalSince1970
        try store.close()
        var fields = store.counts.fields
        fields["started"] = .number(started)
        fields["ended"] = .number(ended)
        fields["completed_this_run"] = .number(Double(completed))
        if let listed = reporter.listedAt { fields["listed_at"] = .number(listed) }
        if let peak = StateBenchmark.peakResidentBytes() { fields["peak_rss_bytes"] = .number(Double(peak)) }
        print(JSONValue.object(fields).jsonText())
    }

    /// Claims items a batch at a time and makes each item's commits through the four stages, then
    /// lets the batch go, until no item is left; returns how many it completed.
    static func claimAndCommit(_ store: any SharedStateStore, batch: Int) throws -> Int {
        var completed = 0
        while true {
            let claimed = try store.claimItems(limit: batch, maxFailures: maxFailures, leaseFor: RunSettings.defaultLease)
            if claimed.isEmpty { return completed }
            for claim in claimed { try StateBenchmark.commitItem(claim.item.path, store: store) }
            try store.releaseLeases(claimed.map(\.item.path))
            completed += claimed.count
        }
    }

    static func open(_ options: Options) throws -> PostgresStateStore {
        try PostgresStateStore(url: options.url, password: options.password, runner: .current())
    }

    static func fail(_ problem: String) -> Never {
        FileHandle.standardError.write(Data("StateBenchmark: \(problem)\n".utf8))
        exit(70)
    }

    /// Discards events but notes when the listing was recorded (only the lister sees it).
    final class ListingClock: Reporter {
        private let listed = Mutex<Double?>(nil)
        var listedAt: Double? { listed.withLock { $0 } }

        func report(_ event: RunEvent) {
            if case .listed = event { listed.withLock { $0 = Date().timeIntervalSince1970 } }
        }

        func finish() {}
    }
}
