import Foundation
import PostgresTestServer
import Synchronization
import Testing
@testable import PipelineCore

/// The claim the PostgreSQL state driver builds leases on: `SELECT … FOR UPDATE SKIP LOCKED LIMIT n`
/// in concurrent transactions hands each row to one claimant only.
@Suite("Claiming rows with FOR UPDATE SKIP LOCKED")
struct PostgresSkipLockedClaimTests {
    static let claim = "SELECT id FROM items WHERE claimed_by IS NULL ORDER BY id FOR UPDATE SKIP LOCKED LIMIT $1"

    func seed(_ url: String, rows: Int) throws {
        let connection = try PostgresConnection(url: url)
        try connection.executeScript("CREATE TABLE items (id bigint PRIMARY KEY, claimed_by text)")
        try connection.execute("INSERT INTO items SELECT generate_series(1, $1::int8), NULL", [.int64(Int64(rows))])
    }

    /// Claims up to `limit` rows for `runner` in one transaction; `whileHeld` runs before it commits.
    static func claimBatch(_ connection: PostgresConnection, runner: String, limit: Int64, whileHeld: () throws -> Void = {}) throws -> [Int64] {
        try connection.transaction {
            let ids = try connection.execute(claim, [.int64(limit)]).rows.compactMap { $0.first?.int64 }
            for id in ids {
                try connection.execute("UPDATE items SET claimed_by = $1 WHERE id = $2", [.text(runner), .int64(id)])
            }
            try whileHeld()
            return ids
        }
    }

    @Test func aSecondClaimWhileTheFirstIsOpenSkipsItsRows() throws {
        let url = try PostgresServer.shared().makeDatabase()
        try seed(url, rows: 10)
        let first = try PostgresConnection(url: url)
        // A hang guard: were the claim to wait for the first one's locks, it would wait forever.
        let second = try PostgresConnection(url: url, statementTimeout: TimeSpan(milliseconds: 10_000))
        var secondIDs: [Int64] = []
        let firstIDs = try Self.claimBatch(first, runner: "a", limit: 4) {
            // The first transaction still holds its row locks here.
            secondIDs = try Self.claimBatch(second, runner: "b", limit: 4)
        }
        #expect(firstIDs == [1, 2, 3, 4])
        #expect(secondIDs == [5, 6, 7, 8])
    }

    @Test func concurrentRunnersNeverClaimTheSameRow() async throws {
        let url = try PostgresServer.shared().makeDatabase()
        let rows = 600
        try seed(url, rows: rows)
        let runners = 4
        // All connect first, then start together, so the claims overlap in time.
        let connected = StartingLine()
        let claims = try await withThrowingTaskGroup(of: (String, [Int64], Int).self) { group in
            for index in 0..<runners {
                group.addTask {
                    try await Blocking.run {
                        let runner = "runner-\(index)"
                        let connection = try PostgresConnection(url: url)
                        connected.arriveAndWait(for: runners)
                        var mine: [Int64] = []
                        var batches = 0
                        while true {
                            let batch = try Self.claimBatch(connection, runner: runner, limit: 7)
                            if batch.isEmpty { break }
                            mine += batch
                            batches += 1
                        }
                        return (runner, mine, batches)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let all = claims.flatMap(\.1)
        #expect(all.count == rows, "a row was claimed twice or not at all")
        #expect(Set(all) == Set(1...Int64(rows)))
        // The table agrees with what each runner believes it claimed.
        let check = try PostgresConnection(url: url)
        for (runner, mine, _) in claims {
            let recorded = try check.execute("SELECT id FROM items WHERE claimed_by = $1 ORDER BY id", [.text(runner)]).rows.compactMap { $0.first?.int64 }
            #expect(recorded == mine.sorted(), "\(runner)")
        }
        // The runners really ran side by side: more than one of them got work.
        #expect(claims.filter { $0.2 > 0 }.count > 1)
    }
}

/// Holds threads until `count` have arrived, so their work starts together.
private final class StartingLine: Sendable {
    private let arrived = Atomic<Int>(0)

    func arriveAndWait(for count: Int) {
        arrived.add(1, ordering: .sequentiallyConsistent)
        while arrived.load(ordering: .sequentiallyConsistent) < count { sched_yield() }
    }
}
