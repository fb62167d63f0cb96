import Foundation
import Testing
@testable import PipelineCore

/// Every shared driver (memory, SQLite, PostgreSQL) claims in the schedule's order and leaves items
/// of a closed window, or over the quota's size limit, pending and untouched: one answer for all.
@Suite("Claims in the schedule's order, on every driver")
struct ScheduledClaimConformanceTests {
    typealias Driver = SharedStateStoreConformanceDriver

    /// Photos before videos; big videos only at night (UTC).
    static let schedule = Schedule(
        priority: [ScheduleRule(match: [GlobPattern("*.jpg")!])],
        windows: [ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mp4")!], largerThan: 500),
                                 window: DailyWindow(between: "01:00-06:00", timeZone: TimeZone(identifier: "UTC")!)!)])
    static let noon = ISO8601DateFormatter().date(from: "2026-06-01T12:00:00Z")!
    static let night = ISO8601DateFormatter().date(from: "2026-06-01T02:00:00Z")!

    /// Twelve items: photos and videos of many sizes and times, listed out of every order.
    static let items: [SourceItem] = [
        ("/v1.mp4", 900, "2024-03-01"), ("/p1.jpg", 40, "2024-01-09"), ("/v2.mp4", 20, "2024-05-01"), ("/p2.jpg", 10, "2024-02-01"),
        ("/v3.mp4", 700, nil), ("/p3.jpg", 40, "2024-01-01"), ("/p4.jpg", 90, "2024-07-01"), ("/v4.mp4", 30, "2024-06-01"),
        ("/p5.jpg", 5, "2024-04-01"), ("/v5.mp4", 600, "2024-08-01"), ("/p6.jpg", 70, nil), ("/v6.mp4", 10, "2024-01-02"),
    ].map { SourceItem(path: $0.0, size: $0.1, modified: $0.2.map { $0 + "T00:00:00Z" }) }
    /// Failed runs before this one, and the item a killed run left in progress.
    static let failures = ["/p1.jpg": 1, "/p4.jpg": 2, "/v2.mp4": 1]
    static let inProgress = "/v4.mp4"

    /// A state holding `items` as one listing with their classes, failures and the item in progress.
    func prepared(_ driver: Driver) async throws -> (state: Driver.State, lister: any SharedStateStore) {
        let state = try driver.makeState()
        let lister = try state.open("lister")
        let generation = try lister.beginListing()
        _ = try lister.recordListing(Self.items, generation: generation)
        try lister.setScheduleClasses(Dictionary(uniqueKeysWithValues: Self.items.map { ($0.path, Self.schedule.classify(path: $0.path, size: $0.size)) }))
        try lister.finishListing(generation)
        let worker = try state.open("worker")
        #expect(try worker.claimItems(limit: 100, maxFailures: 5, leaseFor: driver.longLease, plan: Self.schedule.claimPlan(at: Self.night)).count == Self.items.count)
        for (path, count) in Self.failures {
            for _ in 0..<count { try await worker.commit([.itemFailed(path: path, stage: "upload", error: "e")]) }
        }
        try await worker.commit([.stageStarted(path: Self.inProgress, stage: "fetch", attempt: 1)])
        try worker.releaseLeases(Self.items.map(\.path))
        return (state, lister)
    }

    /// The order `plan` puts the items in, by the pure rule (`ClaimPlan.precedes`), without those it keeps waiting.
    static func expected(_ plan: ClaimPlan) -> [String] {
        Self.items.enumerated().compactMap { index, item -> (ClaimPlan.Candidate, String)? in
            let schedule = Self.schedule.classify(path: item.path, size: item.size)
            let inProgress = item.path == Self.inProgress
            guard inProgress || plan.mayStart(window: schedule.window, size: item.size) else { return nil }
            return (ClaimPlan.Candidate(inProgress: inProgress, schedule: schedule, failures: Self.failures[item.path] ?? 0, size: item.size,
                                        modified: item.modified, listedOrder: Int64(index)), item.path)
        }.sorted { plan.precedes($0.0, $1.0) }.map(\.1)
    }

    @Test(arguments: Driver.all)
    func everyOrderIsClaimedAsTheRuleSaysInOneClaimAndInSmallOnes(driver: Driver) async throws {
        for order in ScheduleOrder.allCases {
            let (state, _) = try await prepared(driver)
            var schedule = Self.schedule
            schedule.order = order
            let plan = schedule.claimPlan(at: Self.night)
            let whole = try state.open("a").claimItems(limit: 100, maxFailures: 5, leaseFor: driver.longLease, plan: plan).map(\.item.path)
            #expect(whole == Self.expected(plan), "\(order) on \(driver)")
            // Three at a time, holding what was taken: the same order, batch after batch.
            let (again, _) = try await prepared(driver)
            let runner = try again.open("b")
            var taken: [String] = []
            while true {
                let batch = try runner.claimItems(limit: 3, maxFailures: 5, leaseFor: driver.longLease, plan: plan).map(\.item.path)
                if batch.isEmpty { break }
                taken += batch
            }
            #expect(taken == Self.expected(plan), "\(order) on \(driver), three at a time")
        }
    }

    @Test(arguments: Driver.all)
    func photosFirstFreshBeforeFailedAndTheOrderWithin(driver: Driver) async throws {
        let (state, _) = try await prepared(driver)
        var schedule = Self.schedule
        schedule.order = .smallestFirst
        let claimed = try state.open("a").claimItems(limit: 100, maxFailures: 5, leaseFor: driver.longLease, plan: schedule.claimPlan(at: Self.night))
        #expect(claimed.map(\.item.path) == [
            "/v4.mp4",                                           // in progress
            "/p5.jpg", "/p2.jpg", "/p3.jpg", "/p6.jpg",          // photos, fresh, smallest first (p3 before p1: p1 failed)
            "/p1.jpg", "/p4.jpg",                                // photos that failed: once, then twice
            "/v6.mp4", "/v5.mp4", "/v3.mp4", "/v1.mp4",          // videos, fresh, smallest first (the window is open)
            "/v2.mp4",                                           // a video that failed
        ])
    }

    @Test(arguments: Driver.all)
    func itemsOfAClosedWindowStayPendingUntouchedUntilItOpens(driver: Driver) async throws {
        let (state, lister) = try await prepared(driver)
        let before = try Self.items.map { try lister.item($0.path) }
        let runner = try state.open("a")
        let noon = try runner.claimItems(limit: 100, maxFailures: 5, leaseFor: driver.longLease, plan: Self.schedule.claimPlan(at: Self.noon))
        #expect(Set(noon.map(\.item.path)).isDisjoint(with: ["/v1.mp4", "/v3.mp4", "/v5.mp4"]))
        #expect(noon.count == Self.items.count - 3)
        #expect(try lister.waitingByWindow(maxFailures: 5) == [1: 3])
        for path in ["/v1.mp4", "/v3.mp4", "/v5.mp4"] {
            #expect(try lister.item(path) == before[Self.items.firstIndex { $0.path == path }!], "\(path) was changed")
        }
        // At night the window is open: the claim asks with the time, and they are taken.
        let night = try runner.claimItems(limit: 100, maxFailures: 5, leaseFor: driver.longLease, plan: Self.schedule.claimPlan(at: Self.night))
        #expect(night.map(\.item.path) == ["/v5.mp4", "/v3.mp4", "/v1.mp4"].sorted { a, b in
            Self.items.firstIndex { $0.path == a }! < Self.items.firstIndex { $0.path == b }!
        })
    }

    @Test(arguments: Driver.all)
    func aSizeLimitLeavesLargerItemsWaiting(driver: Driver) async throws {
        let (state, _) = try await prepared(driver)
        let plan = Self.schedule.claimPlan(at: Self.night, sizeLimit: 40)
        let claimed = try state.open("a").claimItems(limit: 100, maxFailures: 5, leaseFor: driver.longLease, plan: plan).map(\.item.path)
        #expect(claimed == Self.expected(plan))
        #expect(claimed.allSatisfy { path in path == Self.inProgress || Self.items.first { $0.path == path }!.size <= 40 })
        #expect(claimed.count == 7)
    }

    @Test(arguments: Driver.all)
    func classesOfUnknownPathsArePassedOverAndAnUnchangedClassIsNotWritten(driver: Driver) async throws {
        let (_, lister) = try await prepared(driver)
        try lister.setScheduleClasses(["/nowhere.jpg": ScheduleClass(rank: 0, window: 1)])
        #expect(try lister.item("/nowhere.jpg") == nil)
        try lister.setScheduleClasses(Dictionary(uniqueKeysWithValues: Self.items.map { ($0.path, ScheduleClass.unscheduled) }))
        #expect(try lister.waitingByWindow(maxFailures: 5).isEmpty)
    }
}
