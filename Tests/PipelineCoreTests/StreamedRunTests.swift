import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// A run on the embedded SQLite state takes the listing in batches and its work a few items at a
/// time, as on a shared state: nothing asks for the whole listing, so memory does not grow with it.
@Suite("A run on a SQLite state streams its listing")
struct StreamedRunTests {
    /// Lists `count` items in batches of `batchSize`; records whether anyone asked for them all at once.
    final class BatchedSource: SourceStage {
        let count: Int
        let batchSize: Int
        let wholeListingAsked = Mutex(false)

        init(count: Int, batchSize: Int) {
            self.count = count
            self.batchSize = batchSize
        }

        func item(_ index: Int) -> SourceItem { SourceItem(path: "/f\(index / 100)/i\(index).jpg", size: Int64(index % 7)) }

        func list(_ context: ListContext) async throws -> [SourceItem] {
            wholeListingAsked.withLock { $0 = true }
            return (0..<count).map(item)
        }

        func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws {
            for start in stride(from: 0, to: count, by: batchSize) {
                try batch((start..<min(count, start + batchSize)).map(item))
            }
        }
    }

    /// Done at once, but fails every item whose path holds "bad".
    struct FailingBadStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult {
            if context.item.path.contains("bad") { throw StageFailure.permanent("bad item") }
            return .done([:])
        }
    }

    /// Keeps every event.
    final class RecordingReporter: Reporter {
        let events = Mutex<[RunEvent]>([])
        func report(_ event: RunEvent) { events.withLock { $0.append(event) } }
        var notices: [String] { events.withLock { $0 }.compactMap { if case .notice(let text) = $0 { text } else { nil } } }
    }

    let directory = NSTemporaryDirectory() + "streamed-run-\(UUID().uuidString)"

    func run(_ store: SQLiteStateStore, source: any SourceStage, reporter: any Reporter = RecordingReporter()) async throws -> RunOutcome {
        let settings = RunSettings(pipelineName: "streamed", workdir: directory, concurrency: 4, maxFailures: 2,
                                   timeBudget: nil, source: nil, redactor: .none)
        let steps = ["fetch", "upload"].map { PipelineStep(name: $0, stage: FailingBadStage()) }
        return try await Orchestrator(settings: settings, source: source, steps: steps, store: store, reporter: reporter).run()
    }

    @Test func aRunAndARerunTakeTheListingInBatchesNeverWhole() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStateStore(path: directory + "/state")
        defer { try? store.close() }
        let source = BatchedSource(count: 3_000, batchSize: 250)
        let first = try await run(store, source: source)
        #expect(first.completed == 3_000)
        #expect(try store.summary(maxFailures: 2).completed == 3_000)
        let reporter = RecordingReporter()
        let again = try await run(store, source: source, reporter: reporter)
        #expect(again.completed == 0 && again.exitStatus == .success)
        #expect(reporter.notices.contains("No new files to process"))
        #expect(!source.wholeListingAsked.withLock { $0 }, "the listing was asked for whole")
    }

    @Test func anItemThatFailsIsTriedOncePerRunAndNamedWhenGivenUp() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStateStore(path: directory + "/state")
        defer { try? store.close() }
        let items = [SourceItem(path: "/good", size: 1), SourceItem(path: "/bad", size: 1)]
        struct Fixed: SourceStage {
            let items: [SourceItem]
            func list(_ context: ListContext) async throws -> [SourceItem] { items }
        }
        let first = try await run(store, source: Fixed(items: items))
        #expect(first.completed == 1 && first.failed == 1)
        #expect(try store.item("/bad")?.failures == 1, "a failure counts once per run")
        let reporter = RecordingReporter()
        let second = try await run(store, source: Fixed(items: items), reporter: reporter)
        #expect(second.failed == 1 && second.exitStatus == .itemsFailed)
        #expect(try store.item("/bad")?.failures == 2)
        let named = reporter.events.withLock { $0 }.compactMap { if case .givenUp(let items) = $0 { items.map(\.path) } else { nil } }
        #expect(named == [["/bad"]])
        let third = try await run(store, source: Fixed(items: items))
        #expect(third.failed == 0 && third.givenUp == 1 && third.exitStatus == .itemsFailed)
    }
}
