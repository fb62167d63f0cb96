import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// A PostgreSQL state made before the failure history gains it when opened, keeping everything.
@Suite("A PostgreSQL state from before the failure history")
struct PostgresHistoryMigrationTests {
    @Test func itGainsTheHistoryWhenOpenedAndKeepsItsItems() async throws {
        let url = try PostgresServer.shared().makeDatabase()
        let first = try PostgresStateStore(url: url, runner: RunnerIdentity("before"))
        _ = try first.recordListing([SourceItem(path: "/a", size: 1), SourceItem(path: "/b", size: 2)])
        try await first.commit([.itemFailed(path: "/a", stage: "fetch", error: "gone", category: .remoteMissing)])
        try first.close()
        // As an older pipeline left it: no columns, no tables of the history.
        let connection = try PostgresConnection(url: url)
        try connection.executeScript("""
            ALTER TABLE items DROP COLUMN last_category; ALTER TABLE items DROP COLUMN tried_runs; ALTER TABLE items DROP COLUMN last_tried_run;
            DROP TABLE failures; DROP TABLE runs; DROP INDEX items_failed;
            """)
        connection.close()

        let reopened = try PostgresStateStore(url: url, runner: RunnerIdentity("after"))
        #expect(try reopened.metadata("schema") == PostgresStateStore.schemaVersion)
        let item = try #require(try reopened.item("/a"))
        #expect(item.status == .failed && item.failures == 1 && item.lastCategory == nil && item.triedRuns == 0)
        #expect(try reopened.beginRun(runner: "after", startedAt: 1) == 1)
        try await reopened.commit([.stageStarted(path: "/a", stage: "fetch", attempt: 1),
                                   .itemFailed(path: "/a", stage: "fetch", error: "gone", category: .remoteMissing)])
        let page = try reopened.failedItemPage(after: nil, limit: 10)
        #expect(page.items.map(\.record.path) == ["/a"] && page.items.first?.failures.map(\.run) == [1])
        #expect(try reopened.failedItemsByCategory() == [.remoteMissing: 1])
        try reopened.close()
    }
}
