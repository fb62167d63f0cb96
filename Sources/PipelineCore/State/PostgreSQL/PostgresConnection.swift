import CPostgreSQL
import Foundation

/// One session with a PostgreSQL server through libpq: statements with parameters, rows as typed
/// values, transactions. The only place that touches libpq; no pointer leaves it.
///
/// Values are always sent as parameters (`$1`, `$2`, … with `PQexecParams`), never spliced into the
/// SQL. Calls block the calling thread until the server answers (run them with `Blocking.run`, not
/// on the Swift executor's few threads).
///
/// Thread safety: not `Sendable`, on purpose. libpq allows one call at a time on a connection, so a
/// connection belongs to one thread or actor: create it where it is used, or hand it over whole
/// (`Mutex(connection)`, an actor's stored property). Use one connection per runner task that needs
/// its own transaction: a transaction is the connection's, not the caller's.
final class PostgresConnection: CustomStringConvertible {
    /// `postgres://user@host:port/db`, without the password.
    let target: String
    private var handle: OpaquePointer?
    private let redactor: SecretRedactor

    /// Connects and logs in (waiting at most the connect timeout), then sets the statement timeout.
    init(_ settings: PostgresConnectionSettings) throws(PostgresError) {
        target = settings.target
        redactor = SecretRedactor(secrets: settings.password.map { [$0] } ?? [])
        let keywords = settings.parameters.map { strdup($0.keyword) }
        let values = settings.parameters.map { strdup($0.value) }
        defer { (keywords + values).forEach { free($0) } }
        let connection = ((keywords.map { UnsafePointer($0) } + [nil])).withUnsafeBufferPointer { keywordList in
            (values.map { UnsafePointer($0) } + [nil]).withUnsafeBufferPointer { valueList in
                PQconnectdbParams(keywordList.baseAddress, valueList.baseAddress, 0)
            }
        }
        guard let connection else {
            throw PostgresError(.connection, "cannot connect to \(target): libpq is out of memory", hint: "free memory and run again")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError.connection(libpqMessage: message, target: target, redactor: redactor)
        }
        handle = connection
        if let timeout = settings.statementTimeout { try setStatementTimeout(timeout) }
    }

    /// Connects to `url` (see `PostgresConnectionSettings` for the forms and the TLS rule).
    convenience init(url: String, password: String? = nil, connectTimeout: Int = 10, statementTimeout: TimeSpan? = nil) throws(PostgresError) {
        try self.init(PostgresConnectionSettings(url: url, password: password, connectTimeout: connectTimeout, statementTimeout: statementTimeout))
    }

    deinit { close() }

    /// Ends the session; later calls throw. Safe to call more than once.
    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    var description: String { "PostgreSQL connection to \(target)" }

    /// Whether the session runs over TLS.
    var usesTLS: Bool { handle.map { PQsslInUse($0) == 1 } ?? false }

    /// Whether a transaction is open (or failed and not yet rolled back).
    var isInTransaction: Bool {
        guard let handle else { return false }
        return PQtransactionStatus(handle) != PQTRANS_IDLE
    }

    /// Cancels any later statement that runs longer than `timeout` (SQLSTATE 57014, kind `.timeout`);
    /// nil lifts the limit. 1 ms…24 h.
    func setStatementTimeout(_ timeout: TimeSpan?) throws(PostgresError) {
        if let timeout, !PostgresConnectionSettings.statementTimeoutRange.contains(timeout) {
            throw PostgresError(.configuration, "a statement timeout of \(timeout) is out of range", hint: "give 1ms…24h")
        }
        try execute("SELECT set_config('statement_timeout', $1, false)", [.text(String(timeout?.milliseconds ?? 0))])
    }

    /// Runs one statement with `parameters` bound to `$1`, `$2`, … and returns its rows.
    @discardableResult
    func execute(_ sql: String, _ parameters: [PostgresValue] = []) throws(PostgresError) -> PostgresResult {
        let handle = try openHandle()
        let result = try Self.withParameters(parameters) { count, types, values in
            PQexecParams(handle, sql, count, types, values, nil, nil, 0)
        }
        return try read(result, handle: handle)
    }

    /// Sends `statements` in one flight (libpq's pipeline mode) and reads their results in order:
    /// one round trip to the server for all of them, where `execute` takes one each. The first that
    /// fails throws its error, and none after it ran. Outside a transaction the statements of one
    /// flight are one implicit transaction (the server's rule up to a sync), rolled back whole by a
    /// failure; inside one, the transaction failed: roll it back. At most `flightLimit` statements go
    /// in one flight: a blocking client that sends more before reading could wait on a server that
    /// waits for it to read. Use it inside a transaction when more than one flight must be atomic.
    @discardableResult
    func pipeline(_ statements: [PostgresStatement]) throws(PostgresError) -> [PostgresResult] {
        var results: [PostgresResult] = []
        results.reserveCapacity(statements.count)
        var start = 0
        while start < statements.count {
            let flight = statements[start..<min(statements.count, start + Self.flightLimit)]
            results += try send(flight)
            start += flight.count
        }
        return results
    }

    static let flightLimit = 200

    private func send(_ flight: ArraySlice<PostgresStatement>) throws(PostgresError) -> [PostgresResult] {
        let handle = try openHandle()
        guard PQenterPipelineMode(handle) == 1 else { throw brokenConnection(handle, while: "entering pipeline mode") }
        defer { _ = PQexitPipelineMode(handle) }
        for statement in flight {
            let sent = try Self.withParameters(statement.parameters) { count, types, values in
                PQsendQueryParams(handle, statement.sql, count, types, values, nil, nil, 0)
            }
            // Unsent: the connection broke (what was sent before is rolled back with it).
            guard sent == 1 else { throw brokenConnection(handle, while: "sending a statement") }
        }
        guard PQpipelineSync(handle) == 1 else { throw brokenConnection(handle, while: "sending the pipeline's sync") }
        var results: [PostgresResult] = []
        var failure: PostgresError?
        for _ in flight {
            // A statement's result, then a null that ends it.
            guard let result = PQgetResult(handle) else { throw brokenConnection(handle, while: "reading a statement's result") }
            while let extra = PQgetResult(handle) { PQclear(extra) }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                continue
            }
            do {
                results.append(try read(result, handle: handle))
            } catch {
                if failure == nil { failure = error }
            }
        }
        guard let sync = PQgetResult(handle) else { throw brokenConnection(handle, while: "reading the pipeline's sync") }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        if let failure { throw failure }
        guard synced else { throw brokenConnection(handle, while: "reading the pipeline's sync") }
        return results
    }

    /// Calls `body` with `parameters` as libpq wants them: a count, their types, their texts (all
    /// text format, so no lengths or formats are needed).
    private static func withParameters<T>(_ parameters: [PostgresValue],
                                          _ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?) -> T) throws(PostgresError) -> T {
        let types = parameters.map(\.parameterType)
        let texts = try parameters.map { value throws(PostgresError) in try value.parameterText().flatMap { strdup($0) } }
        defer { texts.forEach { free($0) } }
        return types.withUnsafeBufferPointer { typeList in
            texts.map { UnsafePointer($0) }.withUnsafeBufferPointer { valueList in
                body(Int32(parameters.count), typeList.baseAddress, valueList.baseAddress)
            }
        }
    }

    /// Runs several statements without parameters at once (a schema), through the simple protocol.
    func executeScript(_ sql: String) throws(PostgresError) {
        let handle = try openHandle()
        _ = try read(PQexec(handle, sql), handle: handle)
    }

    /// One transaction in two round trips: BEGIN goes with `reads`; `decide` turns their results
    /// into the writes and the value to return, and the writes go with COMMIT. If `decide` throws,
    /// or a statement fails, everything is rolled back and the error is rethrown.
    func transaction<T>(reading reads: [PostgresStatement], _ decide: ([PostgresResult]) throws -> (writes: [PostgresStatement], value: T)) throws -> T {
        guard !isInTransaction else {
            throw PostgresError(.statement, "a transaction was begun inside another on \(target)",
                                hint: "this is a defect in pipeline: transactions do not nest")
        }
        do {
            let results = try pipeline([PostgresStatement("BEGIN")] + reads)
            let (writes, value) = try decide(Array(results.dropFirst()))
            try pipeline(writes + [PostgresStatement("COMMIT")])
            return value
        } catch {
            if handle != nil, isInTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws (the error
    /// is rethrown). A transaction that a failed statement spoiled is rolled back and reported even
    /// if `body` caught that failure. Transactions do not nest.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        guard !isInTransaction else {
            throw PostgresError(.statement, "a transaction was begun inside another on \(target)",
                                hint: "this is a defect in pipeline: transactions do not nest")
        }
        try execute("BEGIN")
        let value: T
        do {
            value = try body()
        } catch {
            if handle != nil, isInTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
        let handle = try openHandle()
        switch PQtransactionStatus(handle) {
        case PQTRANS_INTRANS:
            try execute("COMMIT")
            return value
        case PQTRANS_INERROR:
            _ = try? execute("ROLLBACK")
            throw PostgresError(.statement, "a statement of the transaction on \(target) failed, so none of it was committed",
                                sqlState: "25P02", hint: "an error was caught inside the transaction; let it end the transaction instead")
        default:
            throw brokenConnection(handle)
        }
    }

    private func openHandle() throws(PostgresError) -> OpaquePointer {
        guard let handle else {
            throw PostgresError(.connection, "the connection to \(target) is closed", hint: "this is a defect in pipeline: a closed connection was used")
        }
        return handle
    }

    /// Reads a result whole and frees it (exactly once, here), or turns it into the error it reports.
    private func read(_ result: OpaquePointer?, handle: OpaquePointer) throws(PostgresError) -> PostgresResult {
        guard let result else { throw brokenConnection(handle) }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            break
        default:
            if PQstatus(handle) != CONNECTION_OK { throw brokenConnection(handle) }
            func field(_ code: UInt8) -> String? { PQresultErrorField(result, Int32(code)).map { String(cString: $0) } }
            throw PostgresError.statement(
                sqlState: field(UInt8(ascii: "C")),
                message: redactor.redact(field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result))),
                serverHint: field(UInt8(ascii: "H")).map(redactor.redact))
        }
        let columnCount = Int(PQnfields(result))
        let rowCount = Int(PQntuples(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<columnCount).map { PQftype(result, Int32($0)) }
        var rows: [[PostgresValue]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [PostgresValue] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(.null)
                } else if types[Int(column)] == PostgresValue.TypeOID.bytea {
                    values.append(.bytea(try Self.unescapeBytea(PQgetvalue(result, row, column))))
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let text = PQgetvalue(result, row, column).withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    }
                    values.append(try PostgresValue.decode(text: text, type: types[Int(column)]))
                }
            }
            rows.append(values)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected)
    }

    /// bytea in the server's text form (`\x…` hex, or the old escape form) as bytes.
    private static func unescapeBytea(_ text: UnsafeMutablePointer<CChar>?) throws(PostgresError) -> [UInt8] {
        var length = 0
        guard let text, let bytes = text.withMemoryRebound(to: UInt8.self, capacity: 1, { PQunescapeBytea($0, &length) }) else {
            throw PostgresError(.statement, "a bytea value could not be decoded (out of memory?)", hint: "free memory and run again")
        }
        defer { PQfreemem(bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }

    private func brokenConnection(_ handle: OpaquePointer, while step: String? = nil) -> PostgresError {
        let message = redactor.redact(String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))
        return PostgresError(.connection, "the connection to \(target) failed\(step.map { " \($0)" } ?? ""): \(message)",
                             hint: "check that the server runs and is reachable, then run again (what was not committed is rolled back)")
    }
}
