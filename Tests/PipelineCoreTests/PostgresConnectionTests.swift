import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// The libpq binding against a real PostgreSQL (a private cluster on a unix socket, see
/// `PostgresServer`): parameters, types, transactions, errors.
@Suite("The PostgreSQL connection")
struct PostgresConnectionTests {
    let server: PostgresServer

    init() throws {
        server = try PostgresServer.shared()
    }

    func connect(_ test: String = #function) throws -> PostgresConnection {
        try PostgresConnection(url: server.makeDatabase(test))
    }

    @Test func connectsOverTheUnixSocketWithoutTLS() throws {
        let connection = try connect()
        let result = try connection.execute("SELECT current_user AS who, 1 + $1::int8 AS two", [.int64(1)])
        #expect(result.value(0, "who") == .text(server.user))
        #expect(result.value(0, "two") == .int64(2))
        #expect(!connection.usesTLS)
        #expect(!connection.description.contains(server.password))
        #expect(connection.description.contains(server.socketDirectory))
    }

    @Test func everyTypeRoundTripsAsAParameter() throws {
        let connection = try connect()
        try connection.execute("CREATE TABLE kinds (t text, i bigint, d double precision, b boolean, y bytea, n text)")
        let rows: [[PostgresValue]] = [
            [.text("Ünïcødé 写真 🎞️ 'quoted' \"double\" \\ back"), .int64(.max), .double(0.1), .bool(true), .bytea([0, 1, 0, 255, 0]), .null],
            [.text(""), .int64(.min), .double(-1.5e300), .bool(false), .bytea([]), .null],
            [.text("line\nbreak\ttab"), .int64(0), .double(.infinity), .bool(true), .bytea(Array(0...255)), .null],
            [.null, .null, .null, .null, .null, .null],
        ]
        for row in rows {
            let inserted = try connection.execute("INSERT INTO kinds VALUES ($1, $2, $3, $4, $5, $6)", row)
            #expect(inserted.affectedRows == 1)
        }
        let read = try connection.execute("SELECT t, i, d, b, y, n FROM kinds ORDER BY i NULLS LAST, t")
        #expect(read.columns == ["t", "i", "d", "b", "y", "n"])
        #expect(read.rows == [rows[1], rows[2], rows[0], rows[3]])
        // Selected straight back as well, typed by the statement.
        let echoed = try connection.execute("SELECT $1::float8 AS nan, $2::float8 AS tiny, $3::int8 AS big", [.double(.nan), .double(5e-300), .int64(9_007_199_254_740_993)])
        #expect(echoed.value(0, "nan")?.double?.isNaN == true)
        #expect(echoed.value(0, "tiny") == .double(5e-300))
        #expect(echoed.value(0, "big") == .int64(9_007_199_254_740_993))
    }

    @Test func aTextWithANulByteIsRefusedNotCut() throws {
        let connection = try connect()
        #expect(throws: PostgresError.self) { try connection.execute("SELECT $1::text", [.text("before\u{0}after")]) }
    }

    @Test func anInjectionAttemptPassedAsAParameterStaysData() throws {
        let connection = try connect()
        try connection.execute("CREATE TABLE items (name text PRIMARY KEY)")
        let attempts = ["x'); DROP TABLE items; --", "' OR '1'='1", "$1", "a\"; DELETE FROM items; --"]
        for attempt in attempts {
            try connection.execute("INSERT INTO items (name) VALUES ($1)", [.text(attempt)])
        }
        for attempt in attempts {
            let found = try connection.execute("SELECT name FROM items WHERE name = $1", [.text(attempt)])
            #expect(found.rows == [[.text(attempt)]])
        }
        #expect(try connection.execute("SELECT count(*) FROM items").rows == [[.int64(Int64(attempts.count))]])
    }

    @Test func aTransactionCommitsOrRollsBackWhole() throws {
        struct Abandon: Error {}
        let connection = try connect()
        try connection.execute("CREATE TABLE log (entry text)")
        #expect(throws: Abandon.self) {
            try connection.transaction {
                try connection.execute("INSERT INTO log VALUES ($1)", [.text("never")])
                throw Abandon()
            }
        }
        #expect(!connection.isInTransaction)
        let kept = try connection.transaction {
            try connection.execute("INSERT INTO log VALUES ($1)", [.text("kept")]).affectedRows
        }
        #expect(kept == 1)
        // A failure caught inside still spoils the transaction: nothing of it is committed.
        let spoiled = #expect(throws: PostgresError.self) {
            try connection.transaction {
                try connection.execute("INSERT INTO log VALUES ($1)", [.text("spoiled")])
                _ = try? connection.execute("SELECT 1/0")
            }
        }
        #expect(spoiled?.sqlState == "25P02")
        #expect(try connection.execute("SELECT entry FROM log").rows == [[.text("kept")]])
    }

    @Test func aUniqueViolationReportsItsSQLState() throws {
        let connection = try connect()
        try connection.execute("CREATE TABLE once (key text PRIMARY KEY)")
        try connection.execute("INSERT INTO once VALUES ($1)", [.text("a")])
        let error = #expect(throws: PostgresError.self) { try connection.execute("INSERT INTO once VALUES ($1)", [.text("a")]) }
        #expect(error?.sqlState == "23505")
        #expect(error?.isUniqueViolation == true)
        #expect(error?.kind == .statement)
        #expect(error.map { "\($0)".contains("SQLSTATE 23505") && "\($0)".contains("hint:") } == true)
        // The connection is usable afterwards.
        #expect(try connection.execute("SELECT count(*) FROM once").rows == [[.int64(1)]])
    }

    @Test func aWrongPasswordIsRefusedClearlyWithoutShowingIt() throws {
        let wrong = "not-the-password-\(UUID().uuidString)"
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection(url: server.url(database: "pipeline", password: wrong))
        }
        let text = error.map { "\($0) \(String(reflecting: $0))" } ?? ""
        #expect(error?.kind == .authentication)
        #expect(text.contains("password authentication failed"), "\(text)")
        #expect(!text.contains(wrong) && !text.contains(server.password), "\(text)")
        #expect(error?.pipelineError.exitStatus == .notAuthorized)
    }

    @Test func anUnknownDatabaseIsNamed() throws {
        let error = #expect(throws: PostgresError.self) {
            try PostgresConnection(url: server.url(database: "no_such_database"))
        }
        #expect(error?.kind == .missingDatabase)
        #expect(error.map { "\($0)".contains("no_such_database") && !"\($0)".contains(server.password) } == true)
    }

    @Test func theServersMessagesAreMaskedOfThePassword() throws {
        let connection = try connect()
        // The server quotes a bad value in its message; here that value is the password.
        let error = #expect(throws: PostgresError.self) { try connection.execute("SELECT $1::int8", [.text(server.password)]) }
        #expect(error?.sqlState == "22P02")
        #expect(error.map { !"\($0)".contains(server.password) && "\($0)".contains(SecretRedactor.mask) } == true)
    }

    @Test func theStatementTimeoutCancelsALongStatement() throws {
        let connection = try PostgresConnection(url: server.makeDatabase(), statementTimeout: TimeSpan(milliseconds: 200))
        let error = #expect(throws: PostgresError.self) { try connection.execute("SELECT pg_sleep(30)") }
        #expect(error?.kind == .timeout)
        #expect(error?.sqlState == "57014")
        try connection.setStatementTimeout(nil)
        #expect(try connection.execute("SELECT pg_sleep(0.3), true AS slept").value(0, "slept") == .bool(true))
    }

    @Test func aConnectionTheServerEndsIsReportedAsBroken() throws {
        let url = try server.makeDatabase()
        let victim = try PostgresConnection(url: url)
        let other = try PostgresConnection(url: url)
        let pid = try #require(victim.execute("SELECT pg_backend_pid()").rows.first?.first?.int64)
        try other.execute("SELECT pg_terminate_backend($1::int4)", [.int64(pid)])
        let error = #expect(throws: PostgresError.self) { try victim.execute("SELECT 1") }
        #expect(error?.kind == .connection)
        victim.close()
        #expect(throws: PostgresError.self) { try victim.execute("SELECT 1") }
    }
}
