import Foundation
import Testing
@testable import PipelineCore

/// Every state driver keeps a failure's evidence with the failure, a bounded history per item,
/// the runs that tried an item, and the run history, alike.
@Suite("Every state driver keeps failures and runs")
struct FailureHistoryStoreTests {
    typealias Driver = StateStoreConformanceDriver

    func listedStore(_ driver: Driver, place: String? = nil) throws -> any StateStore {
        let store = try driver.open(place ?? Driver.place())
        _ = try store.recordListing(["/a", "/b", "/c"].map { SourceItem(path: $0, size: 1, modified: "t1") })
        return store
    }

    /// Every failed item with its history, read page by page.
    func failedItems(_ store: any StateStore, pageSize: Int = 2) throws -> [StoredItem] {
        var items: [StoredItem] = []
        var cursor: ItemPage.Cursor?
        repeat {
            let page = try store.failedItemPage(after: cursor, limit: pageSize)
            items += page.items
            cursor = page.next
        } while cursor != nil
        return items
    }

    @Test(arguments: Driver.all)
    func aFailureIsRecordedWithItsEvidence(driver: Driver) async throws {
        let store = try listedStore(driver)
        let run = try store.beginRun(runner: "host/1/x", startedAt: 1000)
        #expect(run == 1)
        try await store.commit([.stageStarted(path: "/b", stage: "fetch", attempt: 3),
                                .itemFailed(path: "/b", stage: "fetch", error: "ftp://h: Connection reset", category: .network, attempt: 3)])
        // No category given: told from the message.
        try await store.commit([.stageStarted(path: "/c", stage: "upload", attempt: 1),
                                .itemFailed(path: "/c", stage: "upload", error: "cannot open '/x': Permission denied")])
        let failed = try failedItems(store, pageSize: 1)
        #expect(failed.map(\.record.path) == ["/b", "/c"])
        let evidence = try #require(failed.first?.failures.first)
        #expect(failed[0].failures.count == 1)
        #expect(evidence.run == 1 && evidence.stage == "fetch" && evidence.category == .network && evidence.attempt == 3)
        #expect(evidence.error == "ftp://h: Connection reset" && evidence.at > 0)
        #expect(try store.item("/b")?.lastCategory == .network && store.item("/b")?.triedRuns == 1 && store.item("/b")?.lastTriedRun == 1)
        #expect(try store.item("/c")?.lastCategory == .permission)
        #expect(try store.failedItemsByCategory() == [.network: 1, .permission: 1])
        try store.close()
    }

    @Test(arguments: Driver.all)
    func anItemKeepsItsLastTwentyFailures(driver: Driver) async throws {
        let store = try listedStore(driver)
        for index in 0..<25 { try await store.commit([.itemFailed(path: "/a", stage: "fetch", error: "e\(index)", category: .serverError)]) }
        let history = try #require(try failedItems(store).first?.failures)
        #expect(history.map(\.error) == (5..<25).map { "e\($0)" })
        try store.close()
    }

    @Test(arguments: Driver.all)
    func anItemFailedInEveryRunThatTriedItIsPersistent(driver: Driver) async throws {
        let store = try listedStore(driver)
        for _ in 1...2 {
            _ = try store.beginRun(runner: "r", startedAt: 1)
            // Two stages started in one run count one run.
            try await store.commit([.stageStarted(path: "/a", stage: "fetch", attempt: 1), .stageDone(path: "/a", stage: "fetch", outputs: [:]),
                                    .stageStarted(path: "/a", stage: "upload", attempt: 1)])
            try await store.commit([.itemFailed(path: "/a", stage: "upload", error: "503", category: .serverError)])
        }
        // /b failed in run 2 but got through the run before.
        _ = try store.beginRun(runner: "r", startedAt: 1)
        try await store.commit([.stageStarted(path: "/b", stage: "fetch", attempt: 1), .itemFailed(path: "/b", stage: "fetch", error: "x")])
        _ = try store.beginRun(runner: "r", startedAt: 1)
        try await store.commit([.stageStarted(path: "/b", stage: "fetch", attempt: 1), .stageDone(path: "/b", stage: "fetch", outputs: [:])])
        _ = try store.beginRun(runner: "r", startedAt: 1)
        try await store.commit([.stageStarted(path: "/b", stage: "upload", attempt: 1), .itemFailed(path: "/b", stage: "upload", error: "x")])
        let a = try #require(try store.item("/a")), b = try #require(try store.item("/b"))
        #expect(a.triedRuns == 2 && a.failures == 2 && a.isPersistentFailure)
        #expect(b.triedRuns == 3 && b.failures == 2 && !b.isPersistentFailure)
        #expect(try failedItems(store).first { $0.record.path == "/a" }?.failures.map(\.run) == [1, 2])
        // A retry starts over.
        _ = try store.retry(paths: ["/a"], includeSkipped: false)
        let retried = try #require(try store.item("/a"))
        #expect(retried.triedRuns == 0 && retried.lastCategory == nil && !retried.isPersistentFailure)
        try store.close()
    }

    @Test(arguments: Driver.all)
    func aFailureTakenBackForAnOutageLeavesNoEvidence(driver: Driver) async throws {
        let store = try listedStore(driver)
        _ = try store.beginRun(runner: "r", startedAt: 1)
        try await store.commit([.stageStarted(path: "/a", stage: "fetch", attempt: 1), .itemFailed(path: "/a", stage: "fetch", error: "old")])
        _ = try store.beginRun(runner: "r", startedAt: 2)
        try await store.commit([.stageStarted(path: "/a", stage: "fetch", attempt: 1), .itemFailed(path: "/a", stage: "fetch", error: "outage")])
        try await store.commit([.itemFailureForgiven(path: "/a")])
        let item = try #require(try store.item("/a"))
        #expect(item.failures == 1 && item.triedRuns == 1 && item.status == .inProgress)
        try await store.commit([.itemFailed(path: "/a", stage: "fetch", error: "later")])
        #expect(try failedItems(store).first?.failures.map(\.error) == ["old", "later"])
        try store.close()
    }

    @Test(arguments: Driver.all)
    func forgettingAnItemForgetsItsHistory(driver: Driver) async throws {
        let store = try listedStore(driver)
        try await store.commit([.itemFailed(path: "/a", stage: "fetch", error: "gone", category: .remoteMissing)])
        #expect(try store.forget(path: "/a"))
        _ = try store.recordListing([SourceItem(path: "/a", size: 1, modified: "t1")])
        try await store.commit([.itemFailed(path: "/a", stage: "fetch", error: "again")])
        #expect(try failedItems(store).first?.failures.map(\.error) == ["again"])
        try store.close()
    }

    @Test(arguments: Driver.all)
    func runsAreNumberedOnAndAKilledRunKeepsNoEnd(driver: Driver) async throws {
        let place = try Driver.place()
        let store = try listedStore(driver, place: place)
        let first = try store.beginRun(runner: "host/1/a", startedAt: 100)
        var ended = RunRecord(number: first, runner: "host/1/a", startedAt: 100)
        var outcome = RunOutcome()
        (outcome.completed, outcome.failed, outcome.skipped, outcome.left, outcome.notStarted, outcome.bytesCompleted) = (5, 2, 1, 1, 2, 4096)
        outcome.stoppedBy = .timeBudget
        outcome.plan = TransferPlan(sizes: [1000, 1000, 1000], quotas: [])
        ended = RunRecord(ended, ended: outcome, at: 160, failures: [.network: 1, .unsupportedType: 1])
        try store.finishRun(ended)
        let second = try store.beginRun(runner: "host/2/b", startedAt: 200)
        #expect(second == 2)
        let runs = try store.runs(limit: 10)
        #expect(runs.count == 2)
        #expect(runs[0] == RunRecord(number: 1, runner: "host/1/a", startedAt: 100, endedAt: 160, exitCode: ExitStatus.stoppedEarly.rawValue,
                                     completed: 5, failed: 2, skipped: 1, left: 3, bytesCompleted: 4096,
                                     failuresByCategory: [.network: 1, .unsupportedType: 1], stopCause: .timeBudget, itemsLeft: 3, bytesLeft: 3000))
        #expect(runs[1] == RunRecord(number: 2, runner: "host/2/b", startedAt: 200))
        #expect(try store.runs(limit: 1).map(\.number) == [2])
        try store.close()
        if driver.persistent {
            let again = try driver.open(place)
            #expect(try again.runs(limit: 10) == runs)
            #expect(try again.beginRun(runner: "r", startedAt: 300) == 3)
            try again.close()
        }
    }

    @Test(arguments: [Driver.postgres, Driver.memory])
    func aCopyCarriesTheFailureHistoryAndTheRuns(through middle: Driver) async throws {
        let place = try Driver.place()
        let original = try SQLiteStateStore(path: place + "/original.state")
        _ = try original.recordListing([SourceItem(path: "/a", size: 1)])
        _ = try original.beginRun(runner: "r", startedAt: 1)
        try await original.commit([.stageStarted(path: "/a", stage: "fetch", attempt: 1),
                                   .itemFailed(path: "/a", stage: "fetch", error: "gone", category: .remoteMissing, attempt: 2)])
        let target = try middle.open(place)
        try StateCopier(pageSize: 1).copy(from: original, to: target)
        let back = try SQLiteStateStore(path: place + "/back.state")
        try StateCopier(pageSize: 1).copy(from: target, to: back)
        #expect(try failedItems(back) == failedItems(original))
        #expect(try back.runs(limit: 5) == original.runs(limit: 5) && back.runs(limit: 5).count == 1)
        #expect(try back.item("/a")?.lastCategory == .remoteMissing && back.item("/a")?.triedRuns == 1)
        for store in [original, target, back] as [any StateStore] { try store.close() }
    }

    /// A state file of schema 2 as made before the failure history (no columns, no tables).
    static func stateBeforeTheHistory(at path: String) throws {
        let database = try SQLiteConnection(path: path, readOnly: false)
        try database.execute("""
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE items(
                path TEXT PRIMARY KEY, listed_order INTEGER NOT NULL, size INTEGER, modified TEXT,
                status TEXT NOT NULL, stage TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                first_failed REAL, last_failed REAL, skip_reason TEXT, updated_at REAL, completed_at REAL,
                listed_generation INTEGER NOT NULL DEFAULT 0, extra TEXT
            ) WITHOUT ROWID;
            CREATE INDEX items_by_status ON items(status, listed_order); CREATE INDEX items_by_listed_order ON items(listed_order);
            CREATE TABLE stages(
                path TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, attempt INTEGER NOT NULL,
                outputs TEXT, checkpoint TEXT, error TEXT, pid INTEGER, pid_start TEXT, updated_at REAL,
                PRIMARY KEY(path, stage)
            ) WITHOUT ROWID;
            INSERT INTO meta(key, value) VALUES ('format', 'pipeline-state'), ('schema', '2'), ('created_at', '2026-01-01T00:00:00Z');
            INSERT INTO items(path, listed_order, size, status, stage, failures, last_error) VALUES
                ('/a.jpg', 1, 10, 'failed', 'fetch', 2, 'cannot open ''/x'': Permission denied'), ('/b.jpg', 2, 20, 'completed', 'upload', 0, NULL);
            """)
        database.close()
    }

    @Test func aStateFromBeforeTheHistoryIsReadAsItIsAndGainsItWhenWritten() async throws {
        let place = try Driver.place()
        let path = place + "/old.state"
        try Self.stateBeforeTheHistory(at: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        // Read-only: read as a state without failures or runs, the file untouched.
        let reader = try SQLiteStateStore(path: path, create: false, readOnly: true)
        let failed = try failedItems(reader)
        #expect(failed.map(\.record.path) == ["/a.jpg"] && failed[0].failures.isEmpty && failed[0].record.triedRuns == 0)
        #expect(try reader.runs(limit: 5).isEmpty && reader.failedItemsByCategory() == [.other: 1])
        var analysis = FailureAnalysis()
        failed.forEach { analysis.add($0) }
        #expect(analysis.groups(.category).map(\.category) == [.permission], "told from the last error")
        try reader.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // Opened for writing: the columns and tables are added, the schema number stays.
        let writer = try SQLiteStateStore(path: path)
        #expect(try writer.metadata("schema") == "2")
        #expect(try writer.beginRun(runner: "r", startedAt: 1) == 1)
        try await writer.commit([.itemFailed(path: "/a.jpg", stage: "fetch", error: "again", category: .permission)])
        #expect(try writer.item("/a.jpg")?.failures == 3 && writer.item("/b.jpg")?.status == .completed)
        try writer.close()
        // What an older pipeline writes still goes in: it names none of the new columns.
        let older = try SQLiteConnection(path: path, readOnly: false)
        try older.execute("INSERT INTO items(path, listed_order, size, status, failures, listed_generation) VALUES ('/c.jpg', 3, 1, 'pending', 0, 0)")
        older.close()
        let reopened = try SQLiteStateStore(path: path)
        #expect(try reopened.item("/c.jpg")?.triedRuns == 0 && reopened.allItems().count == 3)
        try reopened.close()
    }
}
