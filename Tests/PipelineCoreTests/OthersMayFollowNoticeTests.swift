import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// A stage waiting for others (Google's batchCreate) awaits `nextChangeOfOthersMayFollow` instead
/// of asking `othersMayFollow` every few milliseconds, so every change the answer depends on must
/// be announced: an item placed, settled or gone, a worker taking or finding nothing, an item
/// waiting for the disk budget. Here nothing else wakes the waiters: one missed change is a hang.
@Suite("Changes of whether others may follow are announced", .timeLimit(.minutes(1)))
struct OthersMayFollowNoticeTests {
    typealias ListedSource = OrchestratorInMemoryStateTests.ListedSource
    typealias NullReporter = OrchestratorInMemoryStateTests.NullReporter
    typealias FetchStage = OthersMayFollowTests.FetchStage
    typealias Batch = OthersMayFollowTests.Batch

    /// Works a little (the upload), then waits for the others, woken only by the notice.
    struct AwaitingBatchStage: Stage {
        let batch: Batch
        func run(_ context: StageContext) async throws -> StageResult {
            try await Task.sleep(for: .microseconds(Int.random(in: 500...8_000)))
            batch.wait(context.item.path)
            context.waitingForOthers()
            while true {
                let change = context.nextChangeOfOthersMayFollow
                guard context.othersMayFollow else { break }
                await change.opened()
                try Task.checkCancellation()
            }
            batch.noneFollows()
            return .done([:])
        }
    }

    func run(diskBudget: ByteSize?) async throws -> (RunOutcome, [Int]) {
        let batch = Batch()
        let items = (0..<40).map { SourceItem(path: "/p\($0).jpg", size: 1) }
        let settings = RunSettings(pipelineName: "batch", workdir: NSTemporaryDirectory(), concurrency: 3, maxFailures: 3,
                                   timeBudget: nil, diskBudget: diskBudget, source: nil, redactor: .none)
        let steps = [PipelineStep(name: "fetch", stage: FetchStage()), PipelineStep(name: "upload", stage: AwaitingBatchStage(batch: batch))]
        let outcome = try await Orchestrator(settings: settings, source: ListedSource(items: items), steps: steps,
                                             store: MemoryStateStore(), reporter: NullReporter()).run()
        return (outcome, batch.seen)
    }

    @Test func aBatchAwaitingTheNoticeGoesOnceEveryItemWaitsInIt() async throws {
        let (outcome, seen) = try await run(diskBudget: nil)
        #expect(outcome.completed == 40)
        #expect(seen.count == 40 && seen.allSatisfy { $0 == 40 }, "items waiting when one saw that none could follow: \(seen)")
    }

    @Test func aBatchAwaitingTheNoticeGoesWhenTheDiskBudgetLetsNoOtherItemStart() async throws {
        let (outcome, seen) = try await run(diskBudget: ByteSize(bytes: 5))
        #expect(outcome.completed == 40)
        #expect(seen.first == 5, "the first batch holds what the budget let start: \(seen)")
    }
}
