import Foundation
import Testing
@testable import PipelineCore

/// A scheduled claim on a state file reads its items through the index of its order, one range
/// per window class that may start now: SQLite neither sorts the waiting items nor walks those
/// of a closed window (`EXPLAIN QUERY PLAN`). And a state made before schedules gets the columns.
@Suite("What a scheduled SQLite claim reads")
struct SQLiteScheduledClaimPlanTests {
    @Test(arguments: ScheduleOrder.allCases)
    func eachReadOfAClaimFollowsTheIndexOfItsOrder(order: ScheduleOrder) throws {
        let path = NSTemporaryDirectory() + "claim-plan-\(UUID().uuidString).state"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        _ = try store.recordListing((0..<200).map { SourceItem(path: "/i\($0).jpg", size: Int64($0), modified: "2024-01-01T00:00:\($0 % 60)Z") })
        let plan = ClaimPlan(order: order, windowCount: 2, closedWindows: [1], sizeLimit: 1_000)
        // Claiming makes the order's index; then each read is planned against it.
        _ = try store.claimItems(limit: 5, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000), plan: plan)
        try store.close()
        let database = try SQLiteConnection(path: path, readOnly: false)
        defer { database.close() }
        try database.execute("ANALYZE")
        let reads = SQLiteStateStore.waitingReads(plan, maxFailures: 3)
        #expect(reads.count == 4, "pending and failed, for window classes 0 and 2 (1 is closed)")
        #expect(!reads.contains { $0.condition.contains("window_class = 1") })
        for read in reads {
            let sql = SQLiteStateStore.claimSelect(where: read.condition, orderBy: SQLiteStateStore.claimOrder(plan))
            let steps = try database.query("EXPLAIN QUERY PLAN " + sql, read.values + [.integer(1), .integer(10), .integer(0)])
                .compactMap { $0.last?.text }.joined(separator: " | ")
            let index = "items_claim_" + order.rawValue.replacingOccurrences(of: "-", with: "_")
            #expect(steps.contains("USING INDEX \(index) (status=? AND window_class=?)"), "\(order): \(steps)")
            #expect(!steps.contains("TEMP B-TREE"), "\(order) sorts: \(steps)")
        }
    }

    @Test func aStateFileMadeBeforeSchedulesGetsItsColumnsWhenOpenedForWriting() throws {
        let path = NSTemporaryDirectory() + "claim-plan-old-\(UUID().uuidString).state"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteStateStore(path: path)
        _ = try store.recordListing([SourceItem(path: "/a.jpg", size: 1)])
        try store.close()
        // As an earlier version left it: no schedule columns, no claim index.
        let old = try SQLiteConnection(path: path, readOnly: false)
        try old.execute("DROP INDEX items_claim_listed; ALTER TABLE items DROP COLUMN window_class; ALTER TABLE items DROP COLUMN schedule_rank;")
        old.close()
        let reopened = try SQLiteStateStore(path: path)
        defer { try? reopened.close() }
        try reopened.setScheduleClasses(["/a.jpg": ScheduleClass(rank: 0, window: 1)])
        #expect(try reopened.waitingByWindow(maxFailures: 3) == [1: 1])
        #expect(try reopened.item("/a.jpg")?.size == 1)
        #expect(try reopened.metadata("schema") == "2", "the columns are additive: the schema stays 2")
    }
}
