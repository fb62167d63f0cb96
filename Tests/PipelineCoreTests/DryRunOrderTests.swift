import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// `run --dry-run` and `run` take the listing the same way (`ListingIntake`: the same selection,
/// duplicate paths removed alike) and the dry run lists the items in the order the run takes them,
/// with those waiting for a window named as such.
@Suite("The dry run shows the run's order")
struct DryRunOrderTests {
    /// Lists in two batches, with a path twice in the first and again, larger, in the second.
    struct BatchedSource: SourceStage {
        static let batches: [[SourceItem]] = [
            [SourceItem(path: "/v/big.mp4", size: 5_000), SourceItem(path: "/p/b.jpg", size: 300), SourceItem(path: "/p/b.jpg", size: 1),
             SourceItem(path: "/v/small.mp4", size: 50), SourceItem(path: "/x/skip.tmp", size: 1)],
            [SourceItem(path: "/p/a.jpg", size: 100), SourceItem(path: "/v/small.mp4", size: 70), SourceItem(path: "/p/c.heic", size: 200)],
        ]
        func list(_ context: ListContext) async throws -> [SourceItem] { Self.batches.flatMap { $0 } }
        func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws {
            for items in Self.batches { try batch(items) }
        }
    }

    struct DoneStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult { .done([:]) }
    }

    struct Catalog: StageCatalog {
        var descriptors: [StageDescriptor] {
            [StageDescriptor(name: "batched", summary: "test source", parameters: [], factory: .source { _ in BatchedSource() }),
             StageDescriptor(name: "done", summary: "test stage", parameters: [], factory: .item { _ in DoneStage() })]
        }
    }

    static let noon = ISO8601DateFormatter().date(from: "2026-06-01T12:00:00Z")!

    func pipeline() throws -> PipelineFile {
        let folder = NSTemporaryDirectory() + "dry-run-order-\(UUID().uuidString)"
        return try PipelineFileLoader(environment: [:], catalog: Catalog()).parse("""
            version: 1
            state: dry.state
            source:
              uses: batched
              exclude: ["**/*.tmp"]
            stages:
              - name: upload
                uses: done
            schedule:
              order: smallest-first
              priority:
                - match: ["**/*.jpg", "**/*.heic"]
              windows:
                - match: ["**/*.mp4"]
                  larger_than: 1000
                  between: "01:00-06:00"
            """, path: folder + "/pipeline.yml", displayName: "pipeline.yml")
    }

    @Test func theDryRunListsWhatTheRunTakesInItsOrderAndWhatWaits() async throws {
        let pipeline = try pipeline()
        let runner = PipelineRunner(catalog: Catalog(), logFormat: .plain, isTerminal: false)
        let lines = try await runner.dryRun(pipeline, clock: TestClock(date: Self.noon))
        #expect(lines == [
            "new       /p/a.jpg at upload",
            "new       /p/c.heic at upload",
            // Listed twice in the first batch: once, at its first size; again in the second: the later size.
            "new       /p/b.jpg at upload",
            "new       /v/small.mp4 at upload",
            "waiting   /v/big.mp4 for its window 01:00–06:00 UTC, which opens in 13 h",
            "dry run: 4 new, 1 waiting; nothing was changed",
        ], "\(lines)")

        // The run, on the same listing and clock, does them in that order and leaves the video.
        final class Recorder: Stage, @unchecked Sendable {
            let order = Mutex<[String]>([])
            func run(_ context: StageContext) async throws -> StageResult {
                order.withLock { $0.append(context.item.path) }
                return .done([:])
            }
        }
        let recorder = Recorder()
        var settings = RunSettings(pipeline: pipeline, catalog: Catalog())
        settings.clock = TestClock(date: Self.noon)
        settings.concurrency = 1
        let store = MemoryStateStore()
        let outcome = try await Orchestrator(settings: settings, source: BatchedSource(), steps: [PipelineStep(name: "upload", stage: recorder)],
                                             store: store, reporter: OrchestratorScheduleTests.CollectingReporter()).run()
        #expect(recorder.order.withLock { $0 } == ["/p/a.jpg", "/p/c.heic", "/p/b.jpg", "/v/small.mp4"])
        #expect(outcome.waiting == 1 && outcome.exitStatus == .stoppedEarly)
        // Both kept each path once: the state holds five items, /p/b.jpg and /v/small.mp4 at their later sizes.
        #expect(try store.allItems().map(\.path) == ["/v/big.mp4", "/p/b.jpg", "/v/small.mp4", "/p/a.jpg", "/p/c.heic"])
        #expect(try store.item("/p/b.jpg")?.size == 300 && store.item("/v/small.mp4")?.size == 70)
    }
}
