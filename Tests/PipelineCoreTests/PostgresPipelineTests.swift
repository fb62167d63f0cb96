import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// Statements sent in one flight (libpq's pipeline mode), against a real server: results in
/// order, a failure that stops the rest, and transactions of two round trips that commit or roll
/// back whole.
@Suite("The PostgreSQL connection's pipelined statements")
struct PostgresPipelineTests {
    let server: PostgresServer

    init() throws {
        server = try PostgresServer.shared()
    }

    func connect(_ test: String = #function) throws -> PostgresConnection {
        try connectWithURL(test).connection
    }

    func connectWithURL(_ test: String = #function) throws -> (connection: PostgresConnection, url: String) {
        let url = try server.makeDatabase(test)
        let connection = try PostgresConnection(url: url)
        try connection.execute("CREATE TABLE notes (id bigint PRIMARY KEY, body text NOT NULL)")
        return (connection, url)
    }

    func bodies(_ connection: PostgresConnection) throws -> [String] {
        try connection.execute("SELECT body FROM notes ORDER BY id").rows.compactMap { $0.first?.text }
    }

    @Test func resultsComeBackInOrderAcrossSeveralFlights() throws {
        let connection = try connect()
        // More than one flight's worth, each with its parameters.
        let count = PostgresConnection.flightLimit * 2 + 7
        let inserts = (0..<count).map { PostgresStatement("INSERT INTO notes VALUES ($1, $2) RETURNING id", [.int64(Int64($0)), .text("n\($0)")]) }
        let results = try connection.pipeline(inserts + [PostgresStatement("SELECT count(*) FROM notes")])
        #expect(results.count == count + 1)
        #expect(results.prefix(count).map { $0.rows.first?.first } == (0..<count).map { .int64(Int64($0)) })
        #expect(results.last?.rows.first?.first == .int64(Int64(count)))
        // The connection is back to one statement at a time.
        #expect(try connection.execute("SELECT 2::int8").rows.first?.first == .int64(2))
    }

    @Test func aFailingStatementThrowsItsErrorAndNoneAfterItRuns() throws {
        let connection = try connect()
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([
                PostgresStatement("INSERT INTO notes VALUES (1, 'first')"),
                PostgresStatement("INSERT INTO notes VALUES (1, 'duplicate')"),
                PostgresStatement("INSERT INTO notes VALUES (3, 'after')"),
            ])
        }
        #expect(error?.sqlState == "23505", "\(String(describing: error))")
        // Outside a transaction one flight is one implicit transaction: the first is rolled back
        // with the failure, and the third never ran.
        #expect(try bodies(connection).isEmpty)
        #expect(!connection.isInTransaction)
    }

    @Test func aTwoRoundTripTransactionCommitsWhatItDecided() throws {
        let connection = try connect()
        try connection.execute("INSERT INTO notes VALUES (1, 'one')")
        let seen = try connection.transaction(reading: [PostgresStatement("SELECT body FROM notes WHERE id = $1 FOR UPDATE", [.int64(1)])]) { results in
            let body = results[0].rows.first?.first?.text ?? ""
            return (writes: [PostgresStatement("UPDATE notes SET body = $1 WHERE id = 1", [.text(body + "+")]),
                             PostgresStatement("INSERT INTO notes VALUES (2, 'two')")], value: body)
        }
        #expect(seen == "one")
        #expect(try bodies(connection) == ["one+", "two"])
        #expect(!connection.isInTransaction)
    }

    @Test func aTwoRoundTripTransactionRollsBackWholeOnAFailedWriteOrAThrow() throws {
        let (connection, url) = try connectWithURL()
        try connection.execute("INSERT INTO notes VALUES (1, 'one')")
        // A write fails: the one before it in the same flight is rolled back, and COMMIT never ran.
        #expect(throws: PostgresError.self) {
            try connection.transaction(reading: []) { _ in
                (writes: [PostgresStatement("UPDATE notes SET body = 'changed' WHERE id = 1"),
                          PostgresStatement("INSERT INTO notes VALUES (1, 'duplicate')")], value: ())
            }
        }
        #expect(try bodies(connection) == ["one"])
        #expect(!connection.isInTransaction)
        // The decision throws after reading: nothing was written.
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try connection.transaction(reading: [PostgresStatement("SELECT body FROM notes FOR UPDATE")]) { _ -> (writes: [PostgresStatement], value: Void) in
                throw Refused()
            }
        }
        #expect(!connection.isInTransaction)
        // The row lock is gone with the transaction: another session can take it at once.
        let other = try PostgresConnection(url: url)
        try other.setStatementTimeout(TimeSpan(milliseconds: 2_000))
        #expect(try other.execute("UPDATE notes SET body = 'other' WHERE id = 1").affectedRows == 1)
    }
}
