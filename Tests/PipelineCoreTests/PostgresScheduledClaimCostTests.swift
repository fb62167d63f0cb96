import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// A scheduled claim on PostgreSQL still reads about what it takes: items of a closed window and
/// items of later ranks are not walked through, whatever the order.
@Suite("What a scheduled PostgreSQL claim reads")
struct PostgresScheduledClaimCostTests {
    @Test(arguments: [ScheduleOrder.listed, .smallestFirst, .newestFirst])
    func aClaimReadsAboutWhatItTakesWhileMostItemsWaitForAClosedWindow(order: ScheduleOrder) throws {
        let url = try PostgresServer.shared().makeDatabase()
        let store = try PostgresStateStore(url: url, runner: RunnerIdentity("cost"))
        defer { try? store.close() }
        let generation = try store.beginListing()
        let count = 5_000
        // 4,900 big videos first in every order (largest, newest, listed first) wait for a closed night window.
        let items = (0..<count).map { index in
            index < 4_900
                ? SourceItem(path: "/v\(index).mp4", size: 9_000 + Int64(index), modified: "2025-\(String(format: "%05d", index))")
                : SourceItem(path: "/p\(index).jpg", size: Int64(index), modified: "2024-\(String(format: "%05d", index))")
        }
        _ = try store.recordListing(items, generation: generation)
        let schedule = Schedule(order: order, windows: [ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mp4")!]),
                                                                       window: DailyWindow(between: "01:00-06:00", timeZone: TimeZone(identifier: "UTC")!)!)])
        try store.setScheduleClasses(Dictionary(uniqueKeysWithValues: items.map { ($0.path, schedule.classify(path: $0.path, size: $0.size)) }))
        try store.finishListing(generation)
        let plan = schedule.claimPlan(at: ISO8601DateFormatter().date(from: "2026-06-01T12:00:00Z")!)
        #expect(plan.openClasses == [0])

        let connection = try PostgresConnection(url: url)
        try connection.executeScript(PostgresStateStore.claimIndex(order))
        try connection.execute("ANALYZE items")
        try connection.execute("BEGIN")
        let explained = try connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + PostgresStateStore.claim(plan),
                                               [.int64(16), .int64(3), .text("someone"), .double(60)])
        try connection.execute("ROLLBACK")
        let text = try #require(explained.rows.first?.first?.text)
        let read = PostgresClaimCostTests().rowsRead(try JSONValue.parse(text))
        #expect(read > 0, "the plan names no scan of items: \(text.prefix(400))")
        #expect(read <= 100, "a claim of 16 in \(order) read \(read) rows of \(count), 4,900 of them waiting for their window")

        let claimed = try store.claimItems(limit: 3, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000), plan: plan).map(\.item.path)
        let expected: [ScheduleOrder: [String]] = [.listed: ["/p4900.jpg", "/p4901.jpg", "/p4902.jpg"],
                                                    .smallestFirst: ["/p4900.jpg", "/p4901.jpg", "/p4902.jpg"],
                                                    .newestFirst: ["/p4999.jpg", "/p4998.jpg", "/p4997.jpg"]]
        #expect(claimed == expected[order], "\(claimed)")
    }
}
