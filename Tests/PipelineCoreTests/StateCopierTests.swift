import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// Moving a state between stores (`pipeline state push` / `pull`): nothing is lost or changed on
/// the way, whatever the drivers, and a state of any size moves a page at a time.
@Suite("A state moves between stores without loss")
struct StateCopierTests {
    typealias Driver = StateStoreConformanceDriver

    /// Everything a copy must carry, read back through the protocol.
    struct Dump: Equatable {
        var items: [StoredItem]
        var metadata: [String: String]
        var counters: Set<StateCounter>

        init(_ store: any StateStore, pageSize: Int = 7) throws {
            items = []
            var cursor: ItemPage.Cursor?
            repeat {
                let page = try store.itemPage(after: cursor, limit: pageSize)
                items += page.items
                cursor = page.next
            } while cursor != nil
            metadata = try store.metadataEntries().filter { !StoreMetadataKeys.own.contains($0.key) }
            counters = Set(try store.counters())
        }
    }

    /// A state with an item in every status, stage records with outputs, checkpoints, errors and a
    /// process, the owner, a stage memory and two counters.
    static func fill(_ store: any StateStore) async throws {
        _ = try store.recordListing((0..<20).map { SourceItem(path: "/f\($0).jpg", size: Int64($0 * 1000), modified: $0 % 3 == 0 ? nil : "2024-05-0\($0 % 9 + 1)") })
        try await store.commit([
            .stageDone(path: "/f1.jpg", stage: "fetch", outputs: ["file": "work/f1", "sum": ["sha1": "abc", "sizes": [1, 2, true, "x"]]]),
            .stageDone(path: "/f1.jpg", stage: "upload", outputs: ["token": "t1"]), .itemCompleted(path: "/f1.jpg", stage: "upload"),
            .stageStarted(path: "/f2.jpg", stage: "upload", attempt: 3), .stageCheckpoint(path: "/f2.jpg", stage: "upload", values: ["offset": 4096, "session": "s"]),
            .stageProcess(path: "/f2.jpg", stage: "upload", processID: 4242, processStart: "12345"),
            .stageStarted(path: "/f3.jpg", stage: "fetch", attempt: 1), .stageAttemptFailed(path: "/f3.jpg", stage: "fetch", attempt: 1, error: "530 refused"),
            .itemFailed(path: "/f3.jpg", stage: "fetch", error: "530 refused"),
            .stageStarted(path: "/f4.jpg", stage: "probe", attempt: 1), .itemSkipped(path: "/f4.jpg", reason: "too large: 4 GB"),
        ])
        try await store.commit([.itemFailed(path: "/f3.jpg", stage: "fetch", error: "again")])
        _ = try store.forget(path: "/f5.jpg")
        try store.setMetadata([PipelineSession.ownerKey: "e2e", "max_failures": "3"])
        try store.setStageMemory(stage: "upload", ["album:/album0": "AAlbumId0", "album:/album1": "AAlbumId1"])
        #expect(try store.spend("google-photos-requests", period: "2024-05-01", amount: 17, limit: 10_000))
        #expect(try store.spend("google-photos-requests", period: "2024-05-02", amount: 3, limit: 10_000))
    }

    @Test(arguments: [Driver.postgres, Driver.memory])
    func aStateGoesThroughAnotherDriverAndBackUnchanged(through middle: Driver) async throws {
        let place = try Driver.place()
        let original = try SQLiteStateStore(path: place + "/original.state")
        try await Self.fill(original)
        let before = try Dump(original)
        #expect(before.items.count == 19 && before.counters.count == 2 && before.metadata["stage:upload:album:/album1"] == "AAlbumId1")
        #expect(before.items.contains { $0.stages["upload"]?.checkpoint?["offset"] == 4096 && $0.stages["upload"]?.processID == 4242 })

        let there = try middle.open(try Driver.place())
        let report = try StateCopier(pageSize: 4).copy(from: original, to: there)
        #expect(report.items == 19 && report.stageRecords == 5 && report.counters == 2)
        #expect(try Dump(there) == before)

        let back = place + "/back.state"
        try StateCopier(pageSize: 5).copyToNewFile(from: there, path: back)
        let returned = try SQLiteStateStore(path: back, create: false)
        #expect(try Dump(returned) == before)
        #expect(try returned.allItems() == original.allItems())
        #expect(try returned.summary(maxFailures: 3) == original.summary(maxFailures: 3))
        // The store's own marks are its own: a SQLite file again, with its own format.
        #expect(try returned.metadata("format") == SQLiteStateStore.formatMarker)
        for store in [original, there, returned] as [any StateStore] { try store.close() }
    }

    @Test(arguments: Driver.all)
    func pagesCrossTheirBoundariesInListedOrder(driver: Driver) throws {
        let store = try driver.open(try Driver.place())
        let paths = (0..<2500).map { String(format: "/p%05d", 2500 - $0) }  // listed order is not path order
        _ = try store.recordListing(paths.map { SourceItem(path: $0, size: 1) })
        var sizes: [Int] = [], read: [String] = []
        var cursor: ItemPage.Cursor?
        repeat {
            let page = try store.itemPage(after: cursor, limit: 1000)
            sizes.append(page.items.count)
            read += page.items.map(\.record.path)
            cursor = page.next
        } while cursor != nil
        #expect(sizes == [1000, 1000, 500])
        #expect(read == paths)
        let copy = MemoryStateStore()
        #expect(try StateCopier(pageSize: 1000).copy(from: store, to: copy).items == 2500)
        #expect(try copy.allItems().map(\.path) == paths)
        #expect(throws: PipelineError.self) { try store.itemPage(after: nil, limit: 0) }
        #expect(throws: PipelineError.self) { try StateCopier(pageSize: 100_001) }
        try store.close()
    }

    @Test func aSharedTargetGetsTheItemsAsOneCompleteListingThatRunnersClaim() async throws {
        let source = MemoryStateStore()
        try await Self.fill(source)
        let target = MemoryStateStore(runner: RunnerIdentity("runner-1"))
        try StateCopier().copy(from: source, to: target)
        #expect(try target.listingProgress() == ListingProgress(generation: 1, complete: true))
        let claimed = try target.claimItems(limit: 100, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000)).map(\.item.path)
        // In progress first, then listed order; completed and skipped ones are not work.
        #expect(claimed.first == "/f2.jpg")
        #expect(claimed.count == 17 && !claimed.contains("/f1.jpg") && !claimed.contains("/f4.jpg"))
        #expect(try target.liveLeaseCount() == 17)
    }

    @Test func aCopyIntoAFileRefusesAnExistingFileAndLeavesNoneWhenItFails() async throws {
        let place = try Driver.place()
        let source = MemoryStateStore()
        try await Self.fill(source)
        let existing = place + "/existing.state"
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        #expect(throws: PipelineError.self) { try StateCopier().copyToNewFile(from: source, path: existing) }
        #expect(FileManager.default.contents(atPath: existing) == Data("keep me".utf8))

        let failed = place + "/failed.state"
        #expect(throws: PipelineError.self) { try StateCopier().copyToNewFile(from: MemoryStateStore.closed(), path: failed) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: place) == ["existing.state"])
    }

    @Test func emptyingAStateKeepsOnlyTheStoresOwnMarks() async throws {
        for driver in Driver.all {
            let store = try driver.open(try Driver.place())
            try await Self.fill(store)
            #expect(try !StateCopier.holdsNothing(store))
            try store.removeEverything()
            #expect(try StateCopier.holdsNothing(store), "\(driver.name)")
            #expect(try store.metadata("format") != nil)
            try store.close()
        }
    }
}

extension MemoryStateStore {
    /// A store whose every call fails (closed).
    static func closed() throws -> MemoryStateStore {
        let store = MemoryStateStore()
        try store.close()
        return store
    }
}
