import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// A stage that waits for others (Google's batchCreate) goes once `othersMayFollow` is false, so
/// false must mean what it says: every other item that will reach the stage in this run is already
/// waiting in it. An item on its way in (between its place and the stage's first line), one still
/// working in the stage, and one a worker has taken but not placed yet all may follow.
@Suite("Whether others may still come to a stage")
struct OthersMayFollowTests {
    typealias ListedSource = OrchestratorInMemoryStateTests.ListedSource
    typealias NullReporter = OrchestratorInMemoryStateTests.NullReporter

    /// The items waiting in the batch, and how many were waiting each time one saw that no
    /// other could come.
    final class Batch: Sendable {
        private let state = Mutex<(waiting: Set<String>, seen: [Int])>(([], []))
        func wait(_ path: String) { state.withLock { _ = $0.waiting.insert(path) } }
        func noneFollows() { state.withLock { $0.seen.append($0.waiting.count) } }
        var seen: [Int] { state.withLock { $0.seen } }
    }

    struct FetchStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult {
            try await Task.sleep(for: .microseconds(Int.random(in: 0...2_000)))
            return .done([:])
        }
    }

    /// Works a little (the upload), then waits for the others until none may follow.
    struct BatchStage: Stage {
        let batch: Batch
        func run(_ context: StageContext) async throws -> StageResult {
            try await Task.sleep(for: .microseconds(Int.random(in: 500...8_000)))
            batch.wait(context.item.path)
            context.waitingForOthers()
            while context.othersMayFollow { try await Task.sleep(for: .milliseconds(1)) }
            batch.noneFollows()
            return .done([:])
        }
    }

    @Test func noItemSeesNoneFollowWhileAnotherCanStillCome() async throws {
        let batch = Batch()
        let items = (0..<40).map { SourceItem(path: "/p\($0).jpg", size: 1) }
        let settings = RunSettings(pipelineName: "batch", workdir: NSTemporaryDirectory(), concurrency: 3, maxFailures: 3,
                                   timeBudget: nil, source: nil, redactor: .none)
        let steps = [PipelineStep(name: "fetch", stage: FetchStage()), PipelineStep(name: "upload", stage: BatchStage(batch: batch))]
        let outcome = try await Orchestrator(settings: settings, source: ListedSource(items: items), steps: steps,
                                             store: MemoryStateStore(), reporter: NullReporter()).run()
        #expect(outcome.completed == 40)
        #expect(batch.seen.count == 40)
        #expect(batch.seen.allSatisfy { $0 == 40 }, "items waiting when one saw that none could follow: \(batch.seen)")
    }

    // MARK: The bookkeeping, alone

    @Test func anItemCountsUntilItWaitsOrItsAttemptEnds() {
        var arrivals = StageArrivals()
        arrivals.place("/a", at: 1)
        #expect(arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false), "on its way in, or working in the stage")
        arrivals.settle("/a")
        #expect(!arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false), "waiting in it")
        arrivals.place("/b", at: 0)
        #expect(arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false), "an item before the stage")
        arrivals.remove("/b")
        arrivals.place("/c", at: 2)
        #expect(!arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false), "a stage counts no item past it")
        #expect(arrivals.othersMayCome(to: 1, supplyHasMore: true, startsBlocked: false), "items not started yet")
        #expect(!arrivals.othersMayCome(to: 1, supplyHasMore: true, startsBlocked: true), "none can start while the disk budget is taken up")
    }

    @Test func anItemTakenButNotPlacedCountsLikeOneNotStarted() {
        var arrivals = StageArrivals()
        arrivals.taking()
        #expect(arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false), "the supply is empty, but a worker holds its last item")
        #expect(!arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: true), "and waits for the disk budget")
        arrivals.placeTaken("/a", at: 0)
        #expect(arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false))
        arrivals.place("/a", at: 1)
        arrivals.settle("/a")
        #expect(!arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false))
        arrivals.taking()
        arrivals.tookNothing()
        #expect(!arrivals.othersMayCome(to: 1, supplyHasMore: false, startsBlocked: false))
    }
}
