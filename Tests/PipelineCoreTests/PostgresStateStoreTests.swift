import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// What only the PostgreSQL driver has to get right: whose database it is, runners starting
/// together, rows it must not trust, and the password.
@Suite("The PostgreSQL state driver")
struct PostgresStateStoreTests {
    static let runner = RunnerIdentity("test")

    @Test func aDatabaseThatIsNotAPipelineStateIsRefusedUntouched() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let connection = try PostgresConnection(url: url)
        try connection.executeScript("CREATE TABLE photos(id int); INSERT INTO photos VALUES (1)")
        let error = #expect(throws: PipelineError.self) { try PostgresStateStore(url: url, runner: Self.runner) }
        #expect(error?.code == .badData && error?.message.contains("not a pipeline state") == true, "\(String(describing: error))")
        #expect(try connection.execute("SELECT to_regclass('meta') IS NULL, (SELECT count(*) FROM photos)").rows.first == [.bool(true), .int64(1)])

        try connection.executeScript("DROP TABLE photos; CREATE TABLE meta(key text, value text); INSERT INTO meta VALUES ('format', 'theirs')")
        let foreignMeta = #expect(throws: PipelineError.self) { try PostgresStateStore(url: url, runner: Self.runner) }
        #expect(foreignMeta?.code == .badData)
    }

    @Test func anEmptyDatabaseIsNotMadeAStateWhenCreatingIsNotAsked() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let error = #expect(throws: PipelineError.self) { try PostgresStateStore(url: url, runner: Self.runner, create: false) }
        #expect(error?.code == .missingInput)
        #expect(try PostgresConnection(url: url).execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").rows.first == [.int64(0)])
    }

    @Test func anotherSchemaVersionIsRefused() throws {
        let url = try PostgresServer.shared().makeDatabase()
        try PostgresStateStore(url: url, runner: Self.runner).close()
        try PostgresConnection(url: url).execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
        let error = #expect(throws: PipelineError.self) { try PostgresStateStore(url: url, runner: Self.runner) }
        #expect(error?.code == .badData && error?.message.contains("schema 99") == true, "\(String(describing: error))")
    }

    @Test func runnersStartingTogetherOnAnEmptyDatabaseAllOpenIt() async throws {
        let url = try PostgresServer.shared().makeDatabase()
        let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<6 {
                group.addTask {
                    try await Blocking.run {
                        let store = try PostgresStateStore(url: url, runner: RunnerIdentity("r\(index)"))
                        defer { try? store.close() }
                        return try store.metadata("format") == PostgresStateStore.formatMarker
                    }
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(opened == Array(repeating: true, count: 6))
    }

    @Test func damagedRowsAreReportedAsBadDataNotTrusted() throws {
        let url = try PostgresServer.shared().makeDatabase()
        let store = try PostgresStateStore(url: url, runner: Self.runner)
        let generation = try store.beginListing()
        _ = try store.recordListing(["/status", "/size", "/stage", "/extra"].map { SourceItem(path: $0, size: 1) }, generation: generation)
        let connection = try PostgresConnection(url: url)
        try connection.execute("UPDATE items SET size = -4 WHERE path = '/size'")
        try connection.execute("UPDATE items SET extra = '{not json' WHERE path = '/extra'")
        try connection.execute("INSERT INTO stages(path, stage, status, attempt, outputs) VALUES ('/stage', 'fetch', 'done', 1, '[1, 2')")

        func expectBadData(_ mention: String, _ body: () throws -> Void) {
            let error = #expect(throws: PipelineError.self, performing: body)
            #expect(error?.code == .badData && error?.message.contains(mention) == true, "\(String(describing: error))")
        }
        expectBadData("negative size") { _ = try store.item("/size") }
        expectBadData("'fetch' of item '/stage'") { _ = try store.stageRecords(for: "/stage") }
        try connection.execute("UPDATE items SET size = 1 WHERE path = '/size'")
        expectBadData("extra of item '/extra'") { _ = try store.claimItems(limit: 10, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000)) }
        // The failed claim left no lease behind: once mended, every item is there to claim.
        try connection.execute("UPDATE items SET extra = '{}' WHERE path = '/extra'")
        #expect(try store.claimItems(limit: 10, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000)).count == 4)
        try connection.execute("UPDATE items SET status = 'weird' WHERE path = '/status'")
        expectBadData("'weird'") { _ = try store.item("/status") }
        expectBadData("'weird'") { _ = try store.allItems() }
        expectBadData("'weird'") { _ = try store.summary(maxFailures: 3) }
    }

    @Test func thePasswordAppearsInNoError() throws {
        let server = try PostgresServer.shared()
        let name = try PostgresServer.shared().makeDatabase().split(separator: "/").last!.split(separator: "?").first!
        let wrong = "pw-\(UUID().uuidString)"
        for attempt in [{ try PostgresStateStore(url: server.url(database: String(name), password: wrong), runner: Self.runner) },
                        { try PostgresStateStore(url: server.url(database: String(name)), password: wrong, runner: Self.runner) },
                        { try PostgresStateStore(url: server.url(database: "missing_db", password: wrong), runner: Self.runner) }] {
            let error = #expect(throws: PipelineError.self) { _ = try attempt() }
            #expect(error.map { !"\($0)".contains(wrong) && !$0.message.contains(wrong) } == true, "\(String(describing: error))")
        }
    }
}
