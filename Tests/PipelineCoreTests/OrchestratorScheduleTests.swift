import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// The orchestrator takes items in the schedule's order, keeps windowed items for their window
/// (which the test clock opens), and prefers what the day's quota can finish: whole runs on the
/// in-memory state, in milliseconds.
@Suite("The orchestrator follows the schedule")
struct OrchestratorScheduleTests {
    /// Records the order items reach it; fails the items named in `failing`; runs `onItem` first.
    final class RecordingStage: Stage, Sendable {
        let seen = Mutex<[String]>([])
        let failing: Set<String>
        let onItem: @Sendable (String) -> Void
        init(failing: Set<String> = [], onItem: @escaping @Sendable (String) -> Void = { _ in }) {
            self.failing = failing
            self.onItem = onItem
        }
        func run(_ context: StageContext) async throws -> StageResult {
            let path = context.item.path
            seen.withLock { $0.append(path) }
            onItem(path)
            if failing.contains(path) { throw StageFailure.permanent("refused") }
            return .done([:])
        }
        var order: [String] { seen.withLock { $0 } }
    }

    struct ListedSource: SourceStage {
        let items: [SourceItem]
        func list(_ context: ListContext) async throws -> [SourceItem] { items }
    }

    final class CollectingReporter: Reporter, Sendable {
        let notices = Mutex<[String]>([])
        func report(_ event: RunEvent) {
            if case .notice(let text) = event { notices.withLock { $0.append(text) } }
        }
    }

    static let noon = ISO8601DateFormatter().date(from: "2026-06-01T12:00:00Z")!
    static let utc = TimeZone(identifier: "UTC")!

    static let items = [
        SourceItem(path: "/v/big.mp4", size: 5_000, modified: "2024-01-01T00:00:00Z"),
        SourceItem(path: "/p/b.jpg", size: 300, modified: "2024-01-03T00:00:00Z"),
        SourceItem(path: "/v/small.mp4", size: 50, modified: "2024-01-02T00:00:00Z"),
        SourceItem(path: "/p/a.jpg", size: 100, modified: "2024-01-05T00:00:00Z"),
        SourceItem(path: "/v/huge.mov", size: 9_000, modified: "2024-01-04T00:00:00Z"),
        SourceItem(path: "/p/c.heic", size: 200, modified: nil),
    ]

    static let photosFirst = [ScheduleRule(match: [GlobPattern("**/*.jpg")!, GlobPattern("**/*.heic")!])]
    static let nightlyVideos = [ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("**/*.mp4")!, GlobPattern("**/*.mov")!], largerThan: 1000),
                                               window: DailyWindow(between: "01:00-06:00", timeZone: utc, zoneName: "UTC")!)]

    /// One run, one item at a time (so the stage sees the claim order).
    func run(_ store: MemoryStateStore, _ stage: RecordingStage, schedule: Schedule, clock: TestClock,
             quotas: [QuotaModel] = [], reporter: CollectingReporter = CollectingReporter()) async throws -> RunOutcome {
        var settings = RunSettings(pipelineName: "schedule", workdir: NSTemporaryDirectory(), concurrency: 1, maxFailures: 3,
                                   timeBudget: nil, source: nil, redactor: .none)
        settings.clock = clock
        settings.schedule = schedule
        settings.quotas = quotas
        let steps = [PipelineStep(name: "upload", stage: stage, retry: RetryPolicy(attempts: 1, backoff: .list([TimeSpan(milliseconds: 1)])))]
        return try await Orchestrator(settings: settings, source: ListedSource(items: Self.items), steps: steps, store: store, reporter: reporter).run()
    }

    @Test func eachOrderIsTheOrderTheStageSeesTheItems() async throws {
        let expected: [ScheduleOrder: [String]] = [
            .listed: ["/v/big.mp4", "/p/b.jpg", "/v/small.mp4", "/p/a.jpg", "/v/huge.mov", "/p/c.heic"],
            .smallestFirst: ["/v/small.mp4", "/p/a.jpg", "/p/c.heic", "/p/b.jpg", "/v/big.mp4", "/v/huge.mov"],
            .largestFirst: ["/v/huge.mov", "/v/big.mp4", "/p/b.jpg", "/p/c.heic", "/p/a.jpg", "/v/small.mp4"],
            .newestFirst: ["/p/a.jpg", "/v/huge.mov", "/p/b.jpg", "/v/small.mp4", "/v/big.mp4", "/p/c.heic"],
            .oldestFirst: ["/p/c.heic", "/v/big.mp4", "/v/small.mp4", "/p/b.jpg", "/v/huge.mov", "/p/a.jpg"],
        ]
        for order in ScheduleOrder.allCases {
            let stage = RecordingStage()
            let outcome = try await run(MemoryStateStore(), stage, schedule: Schedule(order: order), clock: TestClock(date: Self.noon))
            #expect(stage.order == expected[order], "\(order)")
            #expect(outcome.completed == 6 && outcome.exitStatus == .success)
        }
    }

    @Test func photosGoBeforeVideosInTheOrderGiven() async throws {
        let stage = RecordingStage()
        _ = try await run(MemoryStateStore(), stage, schedule: Schedule(order: .largestFirst, priority: Self.photosFirst), clock: TestClock(date: Self.noon))
        #expect(stage.order == ["/p/b.jpg", "/p/c.heic", "/p/a.jpg", "/v/huge.mov", "/v/big.mp4", "/v/small.mp4"])
    }

    @Test func itemsThatFailedBeforeGoAfterFreshOnesFewerFailuresFirst() async throws {
        let store = MemoryStateStore()
        let clock = TestClock(date: Self.noon)
        let schedule = Schedule(priority: Self.photosFirst)
        // The first run fails two photos; /p/a.jpg fails once more; /p/c.heic is forgotten (fresh again, listed last).
        let failed = try await run(store, RecordingStage(failing: ["/p/b.jpg", "/p/a.jpg"]), schedule: schedule, clock: clock)
        #expect(failed.failed == 2)
        try await store.commit([.itemFailed(path: "/p/a.jpg", stage: "upload", error: "refused again")])
        #expect(try store.item("/p/a.jpg")?.failures == 2 && store.item("/p/b.jpg")?.failures == 1)
        #expect(try store.forget(path: "/p/c.heic"))
        let again = RecordingStage()
        let outcome = try await run(store, again, schedule: schedule, clock: clock)
        // Listing order would be b, a, c: the fresh one first, then one failure, then two.
        #expect(again.order == ["/p/c.heic", "/p/b.jpg", "/p/a.jpg"])
        #expect(outcome.completed == 3 && outcome.exitStatus == .success)
    }

    @Test func aRunOutsideTheWindowDoesTheRestAndSaysWhenTheWindowOpensThenARunInsideDoesThem() async throws {
        let store = MemoryStateStore()
        let clock = TestClock(date: Self.noon)
        let reporter = CollectingReporter()
        let schedule = Schedule(priority: Self.photosFirst, windows: Self.nightlyVideos)
        let day = RecordingStage()
        let outside = try await run(store, day, schedule: schedule, clock: clock, reporter: reporter)
        #expect(day.order == ["/p/b.jpg", "/p/a.jpg", "/p/c.heic", "/v/small.mp4"])
        #expect(outside.waiting == 2 && outside.exitStatus == .stoppedEarly)
        #expect(reporter.notices.withLock { $0 }.contains("2 items wait for their window 01:00–06:00 UTC, which opens in 13 h"))
        for path in ["/v/big.mp4", "/v/huge.mov"] {
            let record = try #require(try store.item(path))
            #expect(record.status == .pending && record.failures == 0 && record.stage == nil, "\(path): \(record)")
            #expect(try store.stageRecords(for: path).isEmpty)
        }
        clock.advance(by: .seconds(13 * 3600 + 60))
        let night = RecordingStage()
        let inside = try await run(store, night, schedule: schedule, clock: clock)
        #expect(night.order == ["/v/big.mp4", "/v/huge.mov"])
        #expect(inside.waiting == 0 && inside.exitStatus == .success && inside.completed == 2)
    }

    @Test func changedRulesReclassifyEveryItemBeforeTheNextListing() async throws {
        let store = MemoryStateStore()
        let clock = TestClock(date: Self.noon)
        let windowed = try await run(store, RecordingStage(), schedule: Schedule(windows: Self.nightlyVideos), clock: clock)
        #expect(windowed.waiting == 2)
        #expect(try store.metadata(Schedule.digestKey) == Schedule(windows: Self.nightlyVideos).classDigest)
        // The window is dropped from the file: the videos are classed again and taken, at noon.
        let stage = RecordingStage()
        let outcome = try await run(store, stage, schedule: Schedule(order: .largestFirst), clock: clock)
        #expect(stage.order == ["/v/huge.mov", "/v/big.mp4"])
        #expect(outcome.waiting == 0 && outcome.exitStatus == .success)
        #expect(try store.metadata(Schedule.digestKey) == Schedule().classDigest)
    }

    @Test func aWindowThatOpensDuringTheRunHasItsItemsTakenFromThenOn() async throws {
        let clock = TestClock(date: ISO8601DateFormatter().date(from: "2026-06-01T00:59:00Z")!)
        // The last photo takes two minutes (by the test clock): the window opens meanwhile.
        let stage = RecordingStage { path in if path == "/p/c.heic" { clock.advance(by: .seconds(120)) } }
        let outcome = try await run(MemoryStateStore(), stage, schedule: Schedule(priority: Self.photosFirst, windows: Self.nightlyVideos), clock: clock)
        #expect(stage.order == ["/p/b.jpg", "/p/a.jpg", "/p/c.heic", "/v/big.mp4", "/v/small.mp4", "/v/huge.mov"])
        #expect(outcome.completed == 6 && outcome.waiting == 0 && outcome.exitStatus == .success)
    }

    @Test func nearTheDailyQuotaOnlyItemsTheRemainingRequestsCanFinishStart() async throws {
        // Up to 1,000 bytes one request, larger ones five; 10 a day, 8 spent already.
        var quota = QuotaModel(service: "Test API", dailyRequests: 10) { bytes in bytes <= 1000 ? 1 : 5 }
        quota.counter = ("test requests", { _ in "today" })
        let store = MemoryStateStore()
        #expect(try store.spend("test requests", period: "today", amount: 8, limit: 10))
        let reporter = CollectingReporter()
        let stage = RecordingStage()
        let outcome = try await run(store, stage, schedule: Schedule(), clock: TestClock(date: Self.noon), quotas: [quota], reporter: reporter)
        #expect(stage.order == ["/p/b.jpg", "/v/small.mp4", "/p/a.jpg", "/p/c.heic"])
        #expect(outcome.waiting == 2 && outcome.exitStatus == .stoppedEarly)
        #expect(reporter.notices.withLock { $0 }.contains { $0.hasPrefix("2 items wait for the next quota day") }, "\(reporter.notices.withLock { $0 })")
        // A new day: everything left fits again.
        let tomorrow = RecordingStage()
        quota.counter = ("test requests", { _ in "tomorrow" })
        let next = try await run(store, tomorrow, schedule: Schedule(), clock: TestClock(date: Self.noon), quotas: [quota])
        #expect(tomorrow.order == ["/v/big.mp4", "/v/huge.mov"] && next.exitStatus == .success)
    }
}
