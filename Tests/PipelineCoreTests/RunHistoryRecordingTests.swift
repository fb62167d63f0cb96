import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// Every run records itself in the state's run history, and its failures by category.
@Suite("A run records its history")
struct RunHistoryRecordingTests {
    /// Refuses `.mts` files as unsupported, fails `.bad` files with a message only, does the rest.
    struct PickyStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult {
            if context.item.path.hasSuffix(".mts") { throw StageFailure(.permanent, "no .mts here", category: .unsupportedType) }
            if context.item.path.hasSuffix(".bad") { throw StageFailure.permanent("cannot open it: Permission denied") }
            return .done([:])
        }
    }

    struct ListedSource: SourceStage {
        let items: [SourceItem]
        func list(_ context: ListContext) async throws -> [SourceItem] { items }
    }

    final class Events: Reporter {
        let seen = Mutex<[RunEvent]>([])
        func report(_ event: RunEvent) { seen.withLock { $0.append(event) } }
    }

    func run(_ store: MemoryStateStore, _ items: [SourceItem], events: Events) async throws -> RunOutcome {
        let settings = RunSettings(pipelineName: "history", workdir: NSTemporaryDirectory(), concurrency: 2, maxFailures: 5,
                                   timeBudget: nil, source: nil, redactor: .none)
        return try await Orchestrator(settings: settings, source: ListedSource(items: items), steps: [PipelineStep(name: "upload", stage: PickyStage())],
                                      store: store, reporter: events).run()
    }

    @Test func eachRunIsRecordedWithItsOutcomeAndFailuresByCategory() async throws {
        let store = MemoryStateStore()
        let items = ["/a.jpg", "/b.mts", "/c.mts", "/d.bad"].map { SourceItem(path: $0, size: 10) }
        let events = Events()
        let outcome = try await run(store, items, events: events)
        #expect(outcome.completed == 1 && outcome.failed == 3)
        let first = try #require(try store.runs(limit: 5).first)
        #expect(first.number == 1 && first.runner == "memory" && first.endedAt != nil && first.exitCode == ExitStatus.itemsFailed.rawValue)
        #expect(first.completed == 1 && first.failed == 3 && first.bytesCompleted == 10 && first.itemsLeft == 3)
        #expect(first.failuresByCategory == [.unsupportedType: 2, .permission: 1])
        let reported = events.seen.withLock { $0 }.compactMap { event -> [FailureCount]? in
            if case .failureCategories(let counts) = event { return counts }
            return nil
        }
        #expect(reported == [[FailureCount(category: .unsupportedType, count: 2), FailureCount(category: .permission, count: 1)]])
        #expect(try store.item("/b.mts")?.lastCategory == .unsupportedType && store.item("/d.bad")?.lastCategory == .permission)

        _ = try await run(store, items, events: Events())
        let runs = try store.runs(limit: 5)
        #expect(runs.map(\.number) == [1, 2])
        #expect(try store.item("/b.mts")?.isPersistentFailure == true)
        var analysis = FailureAnalysis()
        var cursor: ItemPage.Cursor?
        repeat {
            let page = try store.failedItemPage(after: cursor, limit: 10)
            page.items.forEach { analysis.add($0) }
            cursor = page.next
        } while cursor != nil
        #expect(analysis.failed == 3 && analysis.persistent == 3)
        #expect(analysis.groups(.extension).first?.key == "mts")
    }
}
