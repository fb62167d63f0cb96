import Foundation
import Testing
@testable import PipelineCore

/// What every shared state driver must do alike: claims under leases, fenced commits, the lister
/// role, listing generations and shared counters, run against each driver in
/// `SharedStateStoreConformanceDriver.all` with several runners on one state.
@Suite("Every shared state driver hands each item to one runner at a time")
struct SharedStateStoreConformanceTests {
    typealias Driver = SharedStateStoreConformanceDriver

    /// `count` items `/i01`, `/i02`, … (size = number, modified t1).
    static func items(_ count: Int) -> [SourceItem] {
        (1...count).map { SourceItem(path: String(format: "/i%02d", $0), size: Int64($0), modified: "t1") }
    }

    /// Lists `items` into `state` as one complete generation, by a runner of its own; returns the lister.
    @discardableResult
    static func list(_ items: [SourceItem], into state: Driver.State) throws -> any SharedStateStore {
        let lister = try state.open("lister")
        #expect(try lister.holdRole("lister", for: TimeSpan(milliseconds: 600_000)))
        let generation = try lister.beginListing()
        _ = try lister.recordListing(items, generation: generation)
        try lister.finishListing(generation)
        return lister
    }

    @Test(arguments: Driver.all)
    func twoRunnersClaimDisjointItemsAndTogetherAll(driver: Driver) async throws {
        let state = try driver.makeState()
        let items = Self.items(40)
        try Self.list(items, into: state)
        // Side by side, in small batches until nothing is left.
        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for name in ["a", "b"] {
                group.addTask {
                    try await Blocking.run {
                        let store = try state.open(name)
                        var mine: [String] = []
                        // A hang guard: claims that handed out an item twice would never run dry.
                        for _ in 0..<items.count {
                            let batch = try store.claimItems(limit: 3, maxFailures: 3, leaseFor: driver.longLease)
                            if batch.isEmpty { break }
                            mine += batch.map(\.item.path)
                        }
                        return mine
                    }
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(Set(claims[0]).isDisjoint(with: claims[1]))
        #expect((claims[0] + claims[1]).sorted() == items.map(\.path))
        // Nothing is left for a third runner while the leases last.
        #expect(try state.open("c").claimItems(limit: 100, maxFailures: 3, leaseFor: driver.longLease).isEmpty)
    }

    @Test(arguments: Driver.all)
    func itemsInProgressComeFirstThenTheListingOrder(driver: Driver) async throws {
        let state = try driver.makeState()
        try Self.list(Self.items(5), into: state)
        let first = try state.open("a")
        #expect(try first.claimItems(limit: 5, maxFailures: 3, leaseFor: driver.longLease).map(\.item.path) == ["/i01", "/i02", "/i03", "/i04", "/i05"])
        try await first.commit([.stageStarted(path: "/i04", stage: "fetch", attempt: 1)])
        try first.releaseLeases(["/i01", "/i02", "/i03", "/i04", "/i05"])
        let claimed = try state.open("b").claimItems(limit: 3, maxFailures: 3, leaseFor: driver.longLease)
        #expect(claimed.map(\.item.path) == ["/i04", "/i01", "/i02"])
        #expect(claimed.first?.record.status == .inProgress && claimed.first?.record.stage == "fetch")
    }

    @Test(arguments: Driver.all)
    func finishedGivenUpAndUnlistedItemsAreNotClaimed(driver: Driver) async throws {
        let state = try driver.makeState()
        let items = Self.items(6)
        let lister = try Self.list(items, into: state)
        let worker = try state.open("a")
        #expect(try worker.claimItems(limit: 6, maxFailures: 2, leaseFor: driver.longLease).count == 6)
        try await worker.commit([.itemCompleted(path: "/i01", stage: nil), .itemSkipped(path: "/i02", reason: "big"),
                                 .itemFailed(path: "/i03", stage: "upload", error: "e"), .itemFailed(path: "/i04", stage: "upload", error: "e")])
        try await worker.commit([.itemFailed(path: "/i03", stage: "upload", error: "e")])
        try worker.releaseLeases(items.map(\.path))
        // A new listing no longer has /i06: it is left alone.
        let generation = try lister.beginListing()
        _ = try lister.recordListing(Array(items.prefix(5)), generation: generation)
        try lister.finishListing(generation)
        let claimed = try state.open("b").claimItems(limit: 10, maxFailures: 2, leaseFor: driver.longLease)
        // /i03 failed twice (given up at 2), /i04 once: it is tried again, after the fresh /i05.
        #expect(claimed.map(\.item.path) == ["/i05", "/i04"])
        #expect(claimed.last?.record.failures == 1)
    }

    @Test(arguments: Driver.all)
    func anEndedLeaseGoesToTheOtherRunnerAndTheLateCommitChangesNothing(driver: Driver) async throws {
        let state = try driver.makeState()
        try Self.list(Self.items(1), into: state)
        let frozen = try state.open("frozen")
        let taken = try #require(try frozen.claimItems(limit: 1, maxFailures: 3, leaseFor: driver.shortLease).first)
        let other = try state.open("other")
        #expect(try other.claimItems(limit: 1, maxFailures: 3, leaseFor: driver.longLease).isEmpty, "the lease still holds")
        try await state.endShortLeases()
        let takenOver = try #require(try other.claimItems(limit: 1, maxFailures: 3, leaseFor: driver.longLease).first)
        #expect(takenOver.item.path == "/i01")
        #expect(takenOver.lease.token > taken.lease.token)
        // The frozen runner wakes up and writes: refused, whole, sync or async.
        await #expect(throws: LeaseLost(paths: ["/i01"])) {
            try await frozen.commit([.stageDone(path: "/i01", stage: "fetch", outputs: ["file": "late"]), .itemCompleted(path: "/i01", stage: "fetch")])
        }
        #expect(throws: LeaseLost(paths: ["/i01"])) { try frozen.commitSynchronously([.itemFailed(path: "/i01", stage: "fetch", error: "late")]) }
        #expect(try other.item("/i01")?.status == .pending)
        #expect(try other.stageRecords(for: "/i01").isEmpty)
        #expect(try frozen.renewLeases(["/i01"], for: driver.longLease).isEmpty)
        // The runner that holds it writes.
        try await other.commit([.itemCompleted(path: "/i01", stage: "fetch")])
        #expect(try other.item("/i01")?.status == .completed)
    }

    @Test(arguments: Driver.all)
    func renewingReturnsOnlyTheLeasesStillHeld(driver: Driver) async throws {
        let state = try driver.makeState()
        try Self.list(Self.items(2), into: state)
        let runner = try state.open("a")
        let short = try #require(try runner.claimItems(limit: 1, maxFailures: 3, leaseFor: driver.shortLease).first)
        let long = try #require(try runner.claimItems(limit: 1, maxFailures: 3, leaseFor: driver.shortLease).first)
        // Renewed before it ends, the second lease outlives the wait; the first is left to end and taken.
        let renewed = try runner.renewLeases([long.item.path], for: driver.longLease)
        #expect(renewed.map(\.path) == [long.item.path])
        #expect(renewed.first?.token == long.lease.token)
        #expect((renewed.first?.expiresAt ?? 0) > long.lease.expiresAt)
        try await state.endShortLeases()
        // Ended, even though nobody took it yet: not renewed.
        #expect(try runner.renewLeases([short.item.path], for: driver.longLease).isEmpty)
        #expect(try state.open("b").claimItems(limit: 5, maxFailures: 3, leaseFor: driver.longLease).map(\.item.path) == [short.item.path])
        let answer = try runner.renewLeases([long.item.path, short.item.path, "/never-claimed"], for: driver.longLease)
        #expect(answer.map(\.path) == [long.item.path])
        try await runner.commit([.itemCompleted(path: long.item.path, stage: nil)])
        await #expect(throws: LeaseLost(paths: [short.item.path])) { try await runner.commit([.itemCompleted(path: short.item.path, stage: nil)]) }
    }

    @Test(arguments: Driver.all)
    func releasedItemsAreFreeForOthersAndNoLongerWritable(driver: Driver) async throws {
        let state = try driver.makeState()
        try Self.list(Self.items(3), into: state)
        let first = try state.open("a"), second = try state.open("b")
        #expect(try first.claimItems(limit: 3, maxFailures: 3, leaseFor: driver.longLease).count == 3)
        #expect(try second.claimItems(limit: 3, maxFailures: 3, leaseFor: driver.longLease).isEmpty)
        try first.releaseLeases(["/i02"])
        #expect(try second.claimItems(limit: 3, maxFailures: 3, leaseFor: driver.longLease).map(\.item.path) == ["/i02"])
        await #expect(throws: LeaseLost(paths: ["/i02"])) { try await first.commit([.itemCompleted(path: "/i02", stage: nil)]) }
        try await first.commit([.itemCompleted(path: "/i01", stage: nil)])
    }

    /// An item a store never claimed may be written only while nobody holds it (a tool, or a
    /// failure taken back after the item was let go); one another runner holds refuses the commit whole.
    @Test(arguments: Driver.all)
    func aCommitNamingAnItemAnotherRunnerHoldsIsRefusedWhole(driver: Driver) async throws {
        let state = try driver.makeState()
        try Self.list(Self.items(2), into: state)
        let holder = try state.open("a"), other = try state.open("b")
        #expect(try holder.claimItems(limit: 1, maxFailures: 3, leaseFor: driver.longLease).map(\.item.path) == ["/i01"])
        await #expect(throws: LeaseLost(paths: ["/i01"])) { try await other.commit([.stageStarted(path: "/i01", stage: "fetch", attempt: 1)]) }
        // One item free, one held by another: nothing of the commit is kept.
        #expect(throws: LeaseLost(paths: ["/i01"])) {
            try other.commitSynchronously([.stageDone(path: "/i02", stage: "fetch", outputs: [:]), .itemCompleted(path: "/i01", stage: nil)])
        }
        #expect(try other.stageRecords(for: "/i02").isEmpty)
        #expect(try other.item("/i01")?.status == .pending)
        try await other.commit([.stageStarted(path: "/i02", stage: "fetch", attempt: 1)])
        #expect(try other.item("/i02")?.status == .inProgress, "an item nobody holds is written")
        try await holder.commit([.stageStarted(path: "/i01", stage: "fetch", attempt: 1)])
    }

    @Test(arguments: Driver.all)
    func aRoleIsHeldByOneRunnerAndPassesOnWhenItEndsOrIsReleased(driver: Driver) async throws {
        let state = try driver.makeState()
        let first = try state.open("a"), second = try state.open("b")
        #expect(try first.holdRole("lister", for: driver.shortLease))
        #expect(try !second.holdRole("lister", for: driver.longLease))
        #expect(try second.holdRole("other-role", for: driver.longLease), "roles are apart")
        try await state.endShortLeases()
        #expect(try second.holdRole("lister", for: driver.longLease))
        #expect(try !first.holdRole("lister", for: driver.longLease))
        #expect(try second.holdRole("lister", for: driver.longLease), "the holder keeps it")
        try first.releaseRole("lister")  // not its own: changes nothing
        #expect(try !first.holdRole("lister", for: driver.longLease))
        try second.releaseRole("lister")
        #expect(try first.holdRole("lister", for: driver.longLease))
    }

    @Test(arguments: Driver.all)
    func runnersSpendingAtOnceStopAtTheLimitExactly(driver: Driver) async throws {
        let state = try driver.makeState()
        let granted = try await withThrowingTaskGroup(of: Int.self) { group in
            for name in ["a", "b"] {
                group.addTask {
                    try await Blocking.run {
                        let store = try state.open(name)
                        return try (0..<100).filter { _ in try store.spend("requests", period: "2026-11-30", amount: 1, limit: 150) }.count
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(granted == 150)
        let store = try state.open("c")
        #expect(try !store.spend("requests", period: "2026-11-30", amount: 1, limit: 150))
        #expect(try store.spend("requests", period: "2026-11-30", amount: 0, limit: 150))
        #expect(try store.spend("requests", period: "2026-12-01", amount: 150, limit: 150), "another period counts apart")
        #expect(try !store.spend("bytes", period: "2026-11-30", amount: 11, limit: 10))
        #expect(try store.spend("bytes", period: "2026-11-30", amount: 10, limit: 10))
    }

    @Test(arguments: Driver.all)
    func onlyItemsOfTheLatestListingAreClaimedWithTheirExtra(driver: Driver) async throws {
        let state = try driver.makeState()
        let lister = try state.open("lister")
        #expect(try lister.listingProgress() == ListingProgress(generation: 0, complete: false))
        let first = try lister.beginListing()
        let withExtra = SourceItem(path: "/x", size: 7, modified: "t1", extra: ["sha1": "abc", "parts": [1, 2]])
        #expect(try lister.recordListing([withExtra, SourceItem(path: "/old", size: 1)], generation: first).added == 2)
        #expect(try lister.listingProgress() == ListingProgress(generation: first, complete: false))
        try lister.finishListing(first)
        #expect(try lister.listingProgress() == ListingProgress(generation: first, complete: true))
        let second = try lister.beginListing()
        #expect(second > first)
        #expect(try lister.listingProgress() == ListingProgress(generation: second, complete: false))
        // A batch of the new listing: /x again (its extra unchanged), /new; /old is not seen again.
        _ = try lister.recordListing([withExtra, SourceItem(path: "/new", size: 2)], generation: second)
        let claimed = try state.open("worker").claimItems(limit: 10, maxFailures: 3, leaseFor: driver.longLease)
        #expect(claimed.map(\.item) == [withExtra, SourceItem(path: "/new", size: 2)])
        #expect(claimed.map(\.record.path) == ["/x", "/new"])
        #expect(try lister.allItems().map(\.path) == ["/x", "/old", "/new"], "an unseen item stays in the state")
        #expect(throws: PipelineError.self) { try lister.recordListing([withExtra], generation: second + 5) }
    }

    @Test(arguments: Driver.all)
    func numbersOutOfRangeAreRefused(driver: Driver) throws {
        let store = try driver.makeState().open("a")
        #expect(throws: PipelineError.self) { try store.claimItems(limit: 0, maxFailures: 3, leaseFor: driver.longLease) }
        #expect(throws: PipelineError.self) { try store.claimItems(limit: 1, maxFailures: 0, leaseFor: driver.longLease) }
        #expect(throws: PipelineError.self) { try store.claimItems(limit: 1, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 0)) }
        #expect(throws: PipelineError.self) { try store.renewLeases(["/a"], for: TimeSpan(milliseconds: -5)) }
        #expect(throws: PipelineError.self) { try store.holdRole("lister", for: TimeSpan(milliseconds: 0)) }
        #expect(throws: PipelineError.self) { try store.spend("requests", period: "p", amount: -1, limit: 10) }
        #expect(throws: PipelineError.self) { try store.spend("requests", period: "p", amount: 1, limit: -1) }
    }
}
