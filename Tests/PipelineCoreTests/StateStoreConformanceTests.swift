import Foundation
import Testing
@testable import PipelineCore

/// What every state driver must do alike: the `StateStore` contract and the item rules, run
/// against each driver in `StateStoreConformanceDriver.all`.
@Suite("Every state driver keeps items by the same rules")
struct StateStoreConformanceTests {
    typealias Driver = StateStoreConformanceDriver

    /// A fresh state of `driver` with `/a`, `/b`, `/c` listed (sizes 1, 2, 3; modified t1).
    func listedStore(_ driver: Driver, place: String? = nil) throws -> any StateStore {
        let store = try driver.open(place ?? Driver.place())
        _ = try store.recordListing(["/a", "/b", "/c"].enumerated().map { SourceItem(path: $1, size: Int64($0 + 1), modified: "t1") })
        return store
    }

    @Test(arguments: Driver.all)
    func aListingAddsNewItemsOnceInTheOrderFirstListed(driver: Driver) throws {
        let store = try listedStore(driver)
        let again = try store.recordListing([SourceItem(path: "/d", size: 4), SourceItem(path: "/b", size: 2, modified: "t1"),
                                             SourceItem(path: "/a", size: 1, modified: "t1")])
        #expect(again.added == 1 && again.changed.isEmpty)
        #expect(try store.allItems().map(\.path) == ["/a", "/b", "/c", "/d"])
        let item = try #require(try store.item("/b"))
        #expect(item.size == 2 && item.modified == "t1" && item.status == .pending && item.failures == 0 && item.updatedAt != nil)
        #expect(try store.item("/nowhere") == nil)
        #expect(try store.stageRecords(for: "/nowhere").isEmpty)
        try store.close()
    }

    @Test(arguments: Driver.all)
    func aChangedUnfinishedItemLosesItsStageRecordsAndStartsAgain(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: ["file": "a"]),
                                .stageStarted(path: "/a", stage: "upload", attempt: 2),
                                .stageDone(path: "/b", stage: "fetch", outputs: [:]), .stageStarted(path: "/b", stage: "upload", attempt: 1)])
        let changes = try store.recordListing([SourceItem(path: "/a", size: 10, modified: "t1"), SourceItem(path: "/b", size: 2, modified: "t2"),
                                               SourceItem(path: "/c", size: 3, modified: "t1")])
        #expect(changes.changed == ["/a", "/b"] && changes.added == 0)
        for path in ["/a", "/b"] {
            #expect(try store.stageRecords(for: path).isEmpty, "\(path)")
            let item = try #require(try store.item(path))
            #expect(item.status == .pending && item.stage == nil, "\(path)")
        }
        #expect(try store.item("/a")?.size == 10)
        #expect(try store.item("/b")?.modified == "t2")
    }

    @Test(arguments: Driver.all)
    func anUnchangedItemKeepsItsWorkWhenListedAgain(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: ["file": "a"]), .stageStarted(path: "/a", stage: "upload", attempt: 1)])
        // No modification time from the source is no change either.
        let changes = try store.recordListing([SourceItem(path: "/a", size: 1, modified: nil)])
        #expect(changes.changed.isEmpty)
        #expect(try store.stageRecords(for: "/a")["fetch"]?.outputs == ["file": "a"])
        #expect(try store.item("/a")?.status == .inProgress)
        #expect(try store.item("/a")?.stage == "upload")
    }

    @Test(arguments: Driver.all)
    func aChangedFailedItemStaysFailedWithItsFailuresButLosesItsWork(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: [:]), .itemFailed(path: "/a", stage: "upload", error: "503")])
        try await store.commit([.itemFailed(path: "/a", stage: "upload", error: "503")])
        #expect(try store.recordListing([SourceItem(path: "/a", size: 5, modified: "t1")]).changed == ["/a"])
        let item = try #require(try store.item("/a"))
        #expect(item.status == .failed && item.failures == 2 && item.stage == nil && item.lastError == "503")
        #expect(try store.stageRecords(for: "/a").isEmpty)
    }

    @Test(arguments: Driver.all)
    func completedAndSkippedItemsAreKeptWhenTheirSourceChanges(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: ["id": "m1"]), .itemCompleted(path: "/a", stage: "fetch"),
                                .itemSkipped(path: "/b", reason: "too large")])
        let changes = try store.recordListing([SourceItem(path: "/a", size: 7, modified: "t2"), SourceItem(path: "/b", size: 8, modified: "t2")])
        #expect(changes.changed.isEmpty)
        #expect(try store.item("/a")?.status == .completed)
        #expect(try store.item("/a")?.size == 7)
        #expect(try store.stageRecords(for: "/a")["fetch"]?.outputs == ["id": "m1"])
        #expect(try store.item("/b")?.status == .skipped)
        #expect(try store.item("/b")?.skipReason == "too large")
        #expect(try store.item("/b")?.modified == "t2")
    }

    @Test(arguments: Driver.all)
    func aStageGoesThroughItsTransitionsInOrder(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit(.stageStarted(path: "/a", stage: "upload", attempt: 1))
        var record = try #require(try store.stageRecords(for: "/a")["upload"])
        #expect(record.status == .running && record.attempt == 1 && record.outputs.isEmpty && record.updatedAt != nil)
        #expect(try store.item("/a")?.status == .inProgress)
        #expect(try store.item("/a")?.stage == "upload")

        try await store.commit([.stageProcess(path: "/a", stage: "upload", processID: 4242, processStart: "s1"),
                                .stageCheckpoint(path: "/a", stage: "upload", values: ["offset": 100])])
        record = try #require(try store.stageRecords(for: "/a")["upload"])
        #expect(record.processID == 4242 && record.processStart == "s1" && record.checkpoint == ["offset": 100])

        try await store.commit(.stageAttemptFailed(path: "/a", stage: "upload", attempt: 1, error: "reset by peer"))
        record = try #require(try store.stageRecords(for: "/a")["upload"])
        #expect(record.status == .failed && record.error == "reset by peer" && record.processID == nil && record.processStart == nil)
        #expect(record.checkpoint == ["offset": 100], "the checkpoint outlives a failed attempt")

        try await store.commit(.stageStarted(path: "/a", stage: "upload", attempt: 2))
        record = try #require(try store.stageRecords(for: "/a")["upload"])
        #expect(record.status == .running && record.attempt == 2 && record.error == nil && record.checkpoint == ["offset": 100])

        try await store.commit(.stageDone(path: "/a", stage: "upload", outputs: ["id": "m1", "bytes": 3]))
        record = try #require(try store.stageRecords(for: "/a")["upload"])
        #expect(record.status == .done && record.attempt == 2 && record.outputs == ["id": "m1", "bytes": 3])
        #expect(record.checkpoint == nil && record.error == nil && record.processID == nil)

        // A stage done without a start is attempt 1; process, checkpoint and failure need a started stage.
        try await store.commit([.stageDone(path: "/b", stage: "fetch", outputs: [:]),
                                .stageProcess(path: "/b", stage: "verify", processID: 1, processStart: nil),
                                .stageCheckpoint(path: "/b", stage: "verify", values: ["x": 1]),
                                .stageAttemptFailed(path: "/b", stage: "verify", attempt: 1, error: "e")])
        let records = try store.stageRecords(for: "/b")
        #expect(records.keys.sorted() == ["fetch"] && records["fetch"]?.attempt == 1 && records["fetch"]?.status == .done)
    }

    @Test(arguments: Driver.all)
    func anItemCompletesFailsIsForgivenAndIsSkipped(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.itemFailed(path: "/a", stage: "fetch", error: "530")])
        let first = try #require(try store.item("/a"))
        try await store.commit([.itemFailed(path: "/a", stage: "upload", error: "429")])
        let failed = try #require(try store.item("/a"))
        #expect(failed.status == .failed && failed.failures == 2 && failed.stage == "upload" && failed.lastError == "429")
        #expect(failed.firstFailed == first.firstFailed && failed.lastFailed != nil)

        try await store.commit([.itemFailureForgiven(path: "/a"), .itemFailureForgiven(path: "/b")])
        #expect(try store.item("/a")?.status == .inProgress)
        #expect(try store.item("/a")?.failures == 1)
        #expect(try store.item("/b")?.status == .pending, "only a failed item is forgiven")

        try await store.commit([.itemCompleted(path: "/a", stage: "cleanup")])
        let completed = try #require(try store.item("/a"))
        #expect(completed.status == .completed && completed.stage == "cleanup" && completed.lastError == nil && completed.completedAt != nil)

        try await store.commit([.stageDone(path: "/c", stage: "fetch", outputs: [:]), .stageStarted(path: "/c", stage: "probe", attempt: 1),
                                .stageProcess(path: "/c", stage: "probe", processID: 7, processStart: "s"),
                                .itemSkipped(path: "/c", reason: "not a photo")])
        let skipped = try #require(try store.item("/c"))
        #expect(skipped.status == .skipped && skipped.skipReason == "not a photo")
        let stages = try store.stageRecords(for: "/c")
        #expect(stages["probe"]?.status == .skipped && stages["probe"]?.processID == nil, "the deciding stage no longer runs")
        #expect(stages["fetch"]?.status == .done)
    }

    @Test(arguments: Driver.all)
    func aSkipInALaterCommitStopsTheStageStartedEarlier(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageStarted(path: "/a", stage: "probe", attempt: 1)])
        try await store.commit([.itemSkipped(path: "/a", reason: "excluded")])
        #expect(try store.stageRecords(for: "/a")["probe"]?.status == .skipped)
    }

    @Test(arguments: Driver.all)
    func resettingStagesForgetsOnlyTheNamedOnes(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: [:]), .stageDone(path: "/a", stage: "verify", outputs: [:]),
                                .stageStarted(path: "/a", stage: "upload", attempt: 1)])
        try await store.commit([.stagesReset(path: "/a", stages: ["verify", "upload", "never-ran"])])
        #expect(try store.stageRecords(for: "/a").keys.sorted() == ["fetch"])
        // Reset and redone in one commit: the new record stands.
        try await store.commit([.stagesReset(path: "/a", stages: ["fetch"]), .stageDone(path: "/a", stage: "fetch", outputs: ["again": true])])
        #expect(try store.stageRecords(for: "/a")["fetch"]?.outputs == ["again": true])
    }

    @Test(arguments: Driver.all)
    func aCommitAppliesWholeOrNotAtAll(driver: Driver) async throws {
        let store = try listedStore(driver)
        let refused = [StateTransition.stageDone(path: "/a", stage: "fetch", outputs: [:]), .itemCompleted(path: "/a", stage: "fetch"),
                       .stageStarted(path: "/unlisted", stage: "fetch", attempt: 1)]
        await #expect(throws: PipelineError.self) { try await store.commit(refused) }
        #expect(throws: PipelineError.self) { try store.commitSynchronously(refused) }
        #expect(try store.item("/a")?.status == .pending)
        #expect(try store.stageRecords(for: "/a").isEmpty)
        #expect(try store.item("/unlisted") == nil)

        // Many callers at once: each one's transitions are kept, a bad one fails only its caller.
        let items = (0..<100).map { SourceItem(path: "/p\($0)", size: 1) }
        _ = try store.recordListing(items)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for item in items {
                group.addTask { (try? await store.commit([.itemCompleted(path: item.path, stage: "cleanup")])) != nil }
            }
            group.addTask { (try? await store.commit([.itemCompleted(path: "/unlisted", stage: "cleanup")])) != nil }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 100)
        #expect(try store.summary(maxFailures: 3).completed == 100)
    }

    @Test(arguments: Driver.all)
    func theSummaryCountsEveryStatusGivenUpAndBytes(driver: Driver) async throws {
        let store = try driver.open(Driver.place())
        _ = try store.recordListing((1...7).map { SourceItem(path: "/i\($0)", size: Int64($0 * 10)) })
        try await store.commit([.itemCompleted(path: "/i1", stage: nil), .itemCompleted(path: "/i2", stage: nil),
                                .stageStarted(path: "/i3", stage: "fetch", attempt: 1), .itemSkipped(path: "/i4", reason: "big"),
                                .itemFailed(path: "/i5", stage: "fetch", error: "e"), .itemFailed(path: "/i6", stage: "fetch", error: "e")])
        try await store.commit([.itemFailed(path: "/i6", stage: "fetch", error: "e")])
        var expected = StateSummary()
        expected.total = 7
        expected.pending = 1
        expected.inProgress = 1
        expected.completed = 2
        expected.skipped = 1
        expected.failed = 2
        expected.givenUp = 1
        expected.completedBytes = 30
        expected.totalBytes = 280
        #expect(try store.summary(maxFailures: 2) == expected)
        #expect(try store.summary(maxFailures: 1).givenUp == 2)
        let counted = try store.allItems().reduce(into: StateSummary()) { $0.count($1, maxFailures: 2) }
        #expect(counted == expected)
    }

    @Test(arguments: Driver.all)
    func retryMakesFailedItemsPendingAndSkippedOnesOnlyWhenAsked(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.itemFailed(path: "/a", stage: "fetch", error: "e"), .itemFailed(path: "/b", stage: "fetch", error: "e"),
                                .itemSkipped(path: "/c", reason: "big")])
        #expect(try store.retry(paths: ["/b", "/c", "/nowhere"], includeSkipped: false) == 1)
        let b = try #require(try store.item("/b"))
        #expect(b.status == .pending && b.failures == 0 && b.lastError == nil && b.firstFailed == nil && b.lastFailed == nil)
        #expect(try store.item("/c")?.status == .skipped)
        #expect(try store.retry(paths: nil, includeSkipped: true) == 2)
        #expect(try store.item("/a")?.status == .pending)
        let c = try #require(try store.item("/c"))
        #expect(c.status == .pending && c.skipReason == nil)
        #expect(try store.retry(paths: nil, includeSkipped: true) == 0)
    }

    @Test(arguments: Driver.all)
    func forgettingRemovesTheItemAndItsWorkAndAListingAddsItAgainLast(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: [:]), .itemCompleted(path: "/a", stage: "fetch")])
        #expect(try store.forget(path: "/a"))
        #expect(try !store.forget(path: "/a"))
        #expect(try store.item("/a") == nil)
        #expect(try store.stageRecords(for: "/a").isEmpty)
        #expect(try store.allItems().map(\.path) == ["/b", "/c"])
        #expect(try store.recordListing([SourceItem(path: "/a", size: 1, modified: "t1")]).added == 1)
        #expect(try store.allItems().map(\.path) == ["/b", "/c", "/a"])
        #expect(try store.item("/a")?.status == .pending)
    }

    @Test(arguments: Driver.all)
    func importingReplacesItemsAndDropsTheirStageRecords(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.stageDone(path: "/b", stage: "fetch", outputs: [:])])
        var done = ItemRecord(path: "/b", size: 20, modified: "t9", status: .completed)
        done.stage = "upload"
        done.completedAt = 1_700_000_000
        var failed = ItemRecord(path: "/new", size: 5, status: .failed)
        failed.failures = 2
        failed.lastError = "gone"
        failed.firstFailed = 1_600_000_000
        try store.importItems([done, failed])
        #expect(try store.item("/b") == done)
        #expect(try store.item("/new") == failed)
        #expect(try store.stageRecords(for: "/b").isEmpty)
        #expect(try store.allItems().map(\.path) == ["/a", "/b", "/c", "/new"])
    }

    @Test(arguments: Driver.all)
    func metadataAndStageMemoriesChangeTogetherAndApart(driver: Driver) throws {
        let store = try driver.open(Driver.place())
        try store.setMetadata(["pipeline": "photos", "max_failures": "3"])
        #expect(try store.metadata("pipeline") == "photos")
        try store.setMetadata(["pipeline": nil, "max_failures": "5"])
        #expect(try store.metadata("pipeline") == nil)
        #expect(try store.metadata("max_failures") == "5")
        try store.setStageMemory(stage: "upload", ["album": "A1", "token": "t"])
        try store.setStageMemory(stage: "fetch", ["album": "F1"])
        #expect(try store.stageMemory(stage: "upload", "album") == "A1")
        #expect(try store.stageMemory(stage: "fetch", "album") == "F1")
        #expect(try store.metadata("album") == nil)
        try store.setStageMemory(stage: "upload", ["token": nil])
        #expect(try store.stageMemory(stage: "upload", "token") == nil)
        #expect(try store.stageMemory(stage: "upload", "album") == "A1")
    }

    @Test(arguments: Driver.all)
    func aClosedStateRefusesToBeUsed(driver: Driver) throws {
        let store = try listedStore(driver)
        try store.close()
        #expect(throws: PipelineError.self) { try store.item("/a") }
        #expect(throws: PipelineError.self) { try store.commitSynchronously([.itemCompleted(path: "/a", stage: nil)]) }
        try store.close()
    }

    @Test(arguments: Driver.persistentOnes)
    func everythingSurvivesClosingAndReopening(driver: Driver) async throws {
        let place = try Driver.place()
        let store = try listedStore(driver, place: place)
        try await store.commit([.stageDone(path: "/b", stage: "fetch", outputs: ["file": "b"]), .stageStarted(path: "/b", stage: "upload", attempt: 2),
                                .stageCheckpoint(path: "/b", stage: "upload", values: ["offset": 5]), .itemFailed(path: "/c", stage: "x", error: "e")])
        try store.setMetadata(["k": "v"])
        let items = try store.allItems()
        let stages = try store.stageRecords(for: "/b")
        try store.close()
        let reopened = try driver.open(place)
        #expect(try reopened.allItems() == items)
        #expect(try reopened.stageRecords(for: "/b") == stages)
        #expect(try reopened.metadata("k") == "v")
        try reopened.close()
    }

    @Test(arguments: Driver.all)
    func aCopyIsAStateFileWithEverythingOrIsRefusedClearly(driver: Driver) async throws {
        let place = try Driver.place()
        let store = try listedStore(driver, place: place)
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: ["file": "a"])])
        let copy = place + "/copy.state"
        guard driver.savesCopies else {
            let error = #expect(throws: PipelineError.self) { try store.saveCopy(to: copy) }
            #expect(error?.message.contains("cannot be saved") == true)
            return
        }
        try store.saveCopy(to: copy)
        let saved = try SQLiteStateStore(path: copy, create: false)
        #expect(try saved.allItems() == store.allItems())
        #expect(try saved.stageRecords(for: "/a") == store.stageRecords(for: "/a"))
        try saved.close()
    }
}
