import Foundation
import Testing
@testable import PipelineCore

/// The orchestrator over the in-memory state: whole runs in milliseconds, with no file.
@Suite("The orchestrator on the in-memory state")
struct OrchestratorInMemoryStateTests {
    /// Skips the items whose name says so, and is done with the others.
    struct SortingStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult {
            context.item.path.contains("skip") ? .skip(reason: "asked to") : .done(["seen": true])
        }
    }

    struct ListedSource: SourceStage {
        let items: [SourceItem]
        func list(_ context: ListContext) async throws -> [SourceItem] { items }
    }

    struct NullReporter: Reporter {
        func report(_ event: RunEvent) {}
    }

    func run(_ store: MemoryStateStore, items: [SourceItem]) async throws -> RunOutcome {
        let settings = RunSettings(pipelineName: "memory", workdir: NSTemporaryDirectory(), concurrency: 4, maxFailures: 3,
                                   timeBudget: nil, source: nil, redactor: .none)
        let steps = ["fetch", "sort", "upload"].map { PipelineStep(name: $0, stage: SortingStage()) }
        return try await Orchestrator(settings: settings, source: ListedSource(items: items), steps: steps, store: store,
                                      reporter: NullReporter()).run()
    }

    @Test func aRunCompletesEveryItemAndARerunHasNothingLeft() async throws {
        let store = MemoryStateStore()
        let items = (0..<50).map { SourceItem(path: $0 % 10 == 0 ? "/skip\($0)" : "/item\($0)", size: 1) }
        let first = try await run(store, items: items)
        #expect(first.completed == 45 && first.skipped == 5)
        #expect(try store.stageRecords(for: "/item1")["upload"]?.outputs == ["seen": true])
        #expect(try store.allItems().map(\.path) == items.map(\.path))
        let again = try await run(store, items: items)
        #expect(again.completed == 0 && again.skipped == 0)
        #expect(try store.summary(maxFailures: 3).completed == 45)
    }
}
