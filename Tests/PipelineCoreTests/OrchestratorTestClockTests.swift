import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// The orchestrator in-process, on the in-memory state and a test clock: long backoff waits, a
/// time budget and stage timeouts pass in milliseconds, moved by `advance` once the run has
/// reached its wait (awaited on the clock, never a wall-clock sleep).
@Suite("The orchestrator on a test clock", .timeLimit(.minutes(1)))
struct OrchestratorTestClockTests {
    /// Fails with a retryable error for the first `failures` tries of each item, then is done. The
    /// server answered about the item (a busy file), so the failures are not taken for an outage.
    struct FlakyStage: Stage {
        let failures: Int
        func run(_ context: StageContext) async throws -> StageResult {
            guard context.attempt > failures else { throw StageFailure(.retryable, "450 file busy", isAnswerAboutTheItem: true) }
            return .done([:])
        }
    }

    /// Works until stopped (`started` hears of each item it begins), then fails as the stop says,
    /// or, with `endsWith`, with that failure as a stage cut off mid-request might.
    struct StageUntilStopped: Stage {
        var started: AsyncStream<String>.Continuation?
        var endsWith: StageFailure?
        var doneFromAttempt = Int.max
        func run(_ context: StageContext) async throws -> StageResult {
            if context.attempt >= doneFromAttempt { return .done([:]) }
            started?.yield(context.item.path)
            await context.stop.stopped()
            throw endsWith ?? context.stop.failure ?? .interrupted
        }
    }

    struct ListedSource: SourceStage {
        let items: [SourceItem]
        func list(_ context: ListContext) async throws -> [SourceItem] { items }
    }

    /// Keeps every event, for the messages.
    final class RecordingReporter: Reporter {
        let events = Mutex<[RunEvent]>([])
        func report(_ event: RunEvent) { events.withLock { $0.append(event) } }
        var retryErrors: [String] {
            events.withLock { $0.compactMap { if case .stageRetrying(_, _, _, _, let error) = $0 { error } else { nil } } }
        }
        var failures: [String] {
            events.withLock { $0.compactMap { if case .itemFailed(_, _, let error, _, _) = $0 { error } else { nil } } }
        }
    }

    static let tenMinutes = TimeSpan(milliseconds: 600_000)

    /// The run's outcome; a test past its time limit cancels the run (so it fails rather than hangs).
    func ended(_ running: Task<RunOutcome, any Error>) async throws -> RunOutcome {
        try await withTaskCancellationHandler { try await running.value } onCancel: { running.cancel() }
    }
    static let items = (1...3).map { SourceItem(path: "/item\($0).jpg", size: 1) }

    func orchestrator(_ store: MemoryStateStore, clock: TestClock, steps: [PipelineStep], reporter: any Reporter = RecordingReporter(),
                      timeBudget: TimeSpan? = nil, items: [SourceItem] = Self.items) -> Orchestrator {
        var settings = RunSettings(pipelineName: "clocked", workdir: NSTemporaryDirectory(), concurrency: 4, maxFailures: 3,
                                   timeBudget: timeBudget, source: nil, redactor: .none)
        settings.clock = clock
        return Orchestrator(settings: settings, source: ListedSource(items: items), steps: steps, store: store, reporter: reporter)
    }

    @Test func retriesWithTenMinuteBackoffsFinishInMillisecondsOfWallTime() async throws {
        let clock = TestClock(), store = MemoryStateStore()
        let retry = RetryPolicy(attempts: 3, backoff: .list([Self.tenMinutes]))
        let run = orchestrator(store, clock: clock, steps: [PipelineStep(name: "fetch", stage: FlakyStage(failures: 2), retry: retry)])
        let began = clock.date
        let running = Task { try await run.run() }
        for _ in 1...2 {
            // Every item waits out its backoff on the clock: move it past the wait.
            await clock.sleepers(atLeast: Self.items.count)
            clock.advance(by: Self.tenMinutes.duration)
        }
        let outcome = try await ended(running)
        #expect(outcome.completed == 3 && outcome.failed == 0)
        #expect(clock.date.timeIntervalSince(began) == 1_200, "two ten-minute waits, on the run's clock")
        #expect(try store.summary(maxFailures: 3).completed == 3)
    }

    @Test func theTimeBudgetReachedOnTheClockLeavesItemsResumable() async throws {
        let clock = TestClock(), store = MemoryStateStore()
        let (started, heard) = AsyncStream.makeStream(of: String.self)
        let working = PipelineStep(name: "upload", stage: StageUntilStopped(started: heard), concurrency: 2)
        let run = orchestrator(store, clock: clock, steps: [working], timeBudget: TimeSpan(milliseconds: 6 * 3_600_000))
        let running = Task { try await run.run() }
        var starts = started.makeAsyncIterator()
        for _ in 1...2 { _ = await starts.next() }
        await clock.sleepers(atLeast: 1)  // the budget's
        clock.advance(by: .seconds(6 * 3_600))
        let outcome = try await ended(running)
        #expect(outcome.stoppedBy == .timeBudget && outcome.completed == 0 && outcome.failed == 0)
        #expect(outcome.left == 2, "the two items at work were left where they were")
        #expect(outcome.seconds >= 6 * 3_600, "the run's time is the clock's")

        // Nothing was counted against them: the next run takes every item through.
        let rerun = orchestrator(store, clock: clock, steps: [PipelineStep(name: "upload", stage: FlakyStage(failures: 0))])
        #expect(try await rerun.run().completed == 3)
    }

    @Test func aStageTimeoutIsRetriedAsATimeoutWithTheOneMessage() async throws {
        let clock = TestClock(), store = MemoryStateStore(), reporter = RecordingReporter()
        let retry = RetryPolicy(attempts: 2, backoff: .list([Self.tenMinutes]))
        // Cut off, the stage says something of its own: the timeout's message is the one recorded.
        let slow = StageUntilStopped(endsWith: .retryable("read interrupted"))
        let step = PipelineStep(name: "upload", stage: slow, retry: retry, timeout: TimeSpan(milliseconds: 1_800_000))
        let item = [SourceItem(path: "/big.mov", size: 1)]
        let run = orchestrator(store, clock: clock, steps: [step], reporter: reporter, items: item)
        let running = Task { try await run.run() }
        await clock.sleepers(atLeast: 1)  // the first try's timeout
        clock.advance(by: .seconds(1_800))
        await clock.sleepers(atLeast: 1)  // the backoff wait
        clock.advance(by: Self.tenMinutes.duration)
        await clock.sleepers(atLeast: 1)  // the second try's timeout
        clock.advance(by: .seconds(1_800))
        let outcome = try await ended(running)
        #expect(outcome.failed == 1)
        #expect(reporter.retryErrors == ["upload timed out after 30m"])
        #expect(reporter.failures == ["upload timed out after 30m (gave up after 2 attempts)"])
        #expect(try store.item("/big.mov")?.lastError == "upload timed out after 30m (gave up after 2 attempts)")
    }

    @Test func aStopWhileAnItemWaitsOutItsBackoffWakesItAtOnce() async throws {
        let clock = TestClock(), store = MemoryStateStore()
        let retry = RetryPolicy(attempts: 3, backoff: .list([TimeSpan(milliseconds: 24 * 3_600_000)]))
        let run = orchestrator(store, clock: clock, steps: [PipelineStep(name: "fetch", stage: FlakyStage(failures: 3), retry: retry)])
        let running = Task { try await run.run() }
        await clock.sleepers(atLeast: Self.items.count)
        run.requestStop(.signal, reason: "SIGTERM received")
        // The clock never moves: only the stop can end the waits.
        let outcome = try await ended(running)
        #expect(outcome.stoppedBy == .signal && outcome.left == 3 && outcome.failed == 0)
        #expect(clock.sleeperCount == 0)
        #expect(try store.summary(maxFailures: 3).completed == 0)
    }
}
