import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// A claim costs about what it takes, however far the job is: it reads the unfinished items from
/// partial indexes in listing order. A claim that sorted every unfinished item (or walked the done
/// ones) would make a run of a million items quadratic.
@Suite("What a PostgreSQL claim reads")
struct PostgresClaimCostTests {
    /// Rows the plan of `explained` (EXPLAIN ANALYZE, JSON) read from `items`: returned by its
    /// scans, plus those their filters removed.
    func rowsRead(_ explained: JSONValue) -> Int {
        func number(_ value: JSONValue?) -> Int {
            if case .number(let number)? = value { return Int(number) }
            return 0
        }
        func array(_ value: JSONValue?) -> [JSONValue] {
            if case .array(let items)? = value { return items }
            return []
        }
        var total = 0
        func walk(_ node: JSONValue) {
            guard let plan = node.objectValue else { return }
            let scans: Set<String> = ["Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan"]
            if plan["Relation Name"]?.stringValue == "items", let kind = plan["Node Type"]?.stringValue, scans.contains(kind) {
                let loops = max(1, number(plan["Actual Loops"]))
                for key in ["Actual Rows", "Rows Removed by Filter", "Rows Removed by Index Recheck"] {
                    total += number(plan[key]) * loops
                }
            }
            for child in array(plan["Plans"]) { walk(child) }
        }
        for entry in array(explained) { walk(entry.objectValue?["Plan"] ?? .null) }
        return total
    }

    @Test func aClaimReadsAboutWhatItTakesWhenMostItemsAreDone() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let store = try PostgresStateStore(url: url, runner: RunnerIdentity("cost"))
        defer { try? store.close() }
        let generation = try store.beginListing()
        let count = 5_000
        _ = try store.recordListing((0..<count).map { SourceItem(path: "/p\($0).jpg", size: 1) }, generation: generation)
        try store.finishListing(generation)

        // Most are done, the last few wait, and two were left in progress by a killed runner.
        let connection = try PostgresConnection(url: url)
        try connection.execute("UPDATE items SET status = 'completed' WHERE listed_order <= (SELECT min(listed_order) FROM items) + $1",
                               [.int64(Int64(count - 40))])
        try connection.execute("UPDATE items SET status = 'in_progress' WHERE path IN ('/p4990.jpg', '/p4995.jpg')")
        try connection.execute("ANALYZE items")

        // EXPLAIN ANALYZE runs the claim: in a transaction rolled back, so nothing is claimed.
        try connection.execute("BEGIN")
        let explained = try connection.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + PostgresStateStore.claim(.listed),
                                               [.int64(16), .int64(3), .text("someone"), .double(60)])
        try connection.execute("ROLLBACK")
        let text = try #require(explained.rows.first?.first?.text)
        let read = rowsRead(try JSONValue.parse(text))
        #expect(read > 0, "the plan names no scan of items: \(text.prefix(400))")
        #expect(read <= 100, "a claim of 16 read \(read) rows of \(count), \(count - 39) of them done")

        // And what it takes: the two in progress first, then the waiting ones in listing order.
        let claimed = try store.claimItems(limit: 4, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000)).map(\.item.path)
        #expect(claimed == ["/p4990.jpg", "/p4995.jpg", "/p4961.jpg", "/p4962.jpg"], "\(claimed)")
    }
}
