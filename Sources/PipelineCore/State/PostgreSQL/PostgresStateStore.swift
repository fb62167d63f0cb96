import Foundation
import Synchronization

/// The state on a PostgreSQL server, shared by several runners: items are claimed under leases
/// (`FOR UPDATE SKIP LOCKED`), every commit is fenced by the lease's token, and times are the
/// server's clock.
///
/// What happens to an item is decided by `ItemLedger`, as in every driver: a transaction locks and
/// reads the items, the ledger decides, and only what it lists in `changes` is written.
///
/// One connection per store, behind a lock: calls of one store run one at a time (an async
/// `commit` waits on a thread of its own, `Blocking.run`). Runners scale by running side by side,
/// each with its store; the server's row locks keep them apart.
///
/// Fencing, as in every shared driver: an item this store was given a lease on is written only
/// while that lease holds (same token, not ended); any other item only while no other runner holds
/// a live lease on it (a tool, the circuit breaker taking back a failure after the item was let go).
public final class PostgresStateStore: SharedStateStore {
    /// Written into `meta` so that a foreign database is never mistaken for a pipeline state.
    static let formatMarker = "pipeline-state-postgres"
    static let schemaVersion = "1"
    /// `pg_advisory_xact_lock` key that serializes schema creation between runners starting at once.
    private static let schemaLockKey: Int64 = 0x7069_7065_6c69_6e65  // "pipeline"

    public let runner: RunnerIdentity
    public var answersAtOnce: Bool { false }
    /// The URL without its password, for messages.
    public let target: String
    private let session: Mutex<Session>
    private let groupCommit = GroupCommit()
    /// This runner's run (`beginRun`), which its transitions are recorded under.
    private let run = Mutex<Int64?>(nil)

    /// The connection and the fencing tokens this store was given, by path.
    ///
    /// `@unchecked Sendable` because the connection is not: it lives only inside `session`'s lock,
    /// used by one caller at a time, and never leaves it (`withSession` lends it for the call).
    private struct Session: @unchecked Sendable {
        var connection: PostgresConnection?
        var tokens: [String: Int64] = [:]
    }

    /// Opens the state in the database at `url` (creating its tables when `create` and the database
    /// is empty). A database that holds other tables, or another version's state, is refused untouched.
    /// `password` overrides one in the URL (read it from an environment variable).
    public init(url: String, password: String? = nil, runner: RunnerIdentity, create: Bool = true) throws {
        self.runner = runner
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection(url: url, password: password)
        } catch {
            throw error.pipelineError
        }
        target = connection.target
        do {
            try Self.prepareSchema(connection, create: create)
        } catch let failure as PostgresError {
            throw failure.pipelineError
        }
        session = Mutex(Session(connection: connection))
    }

    // MARK: Schema

    private static let schema = """
        CREATE SEQUENCE listed_order_sequence;
        CREATE SEQUENCE lease_token_sequence;
        CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE items(
            path text PRIMARY KEY, listed_order bigint NOT NULL DEFAULT nextval('listed_order_sequence'),
            size bigint, modified text, status text NOT NULL, stage text, failures integer NOT NULL DEFAULT 0,
            last_error text, first_failed double precision, last_failed double precision, skip_reason text,
            updated_at double precision, completed_at double precision,
            extra text, listed_generation bigint NOT NULL DEFAULT 0,
            lease_owner text, lease_token bigint, lease_expires double precision,
            schedule_rank integer NOT NULL DEFAULT 0, window_class integer NOT NULL DEFAULT 0);
        \(history)
        CREATE INDEX items_by_listed_order ON items(listed_order);
        CREATE INDEX items_by_generation ON items(listed_generation, listed_order);
        \(claimIndexes)
        \(claimIndex(.listed))
        CREATE TABLE stages(
            path text NOT NULL, stage text NOT NULL, status text NOT NULL, attempt integer NOT NULL,
            outputs text, checkpoint text, error text, pid bigint, pid_start text, updated_at double precision,
            PRIMARY KEY(path, stage));
        CREATE TABLE listings(generation bigint PRIMARY KEY, complete boolean NOT NULL DEFAULT false,
            started_at double precision NOT NULL, finished_at double precision);
        CREATE TABLE roles(role text PRIMARY KEY, owner text NOT NULL, expires double precision NOT NULL);
        CREATE TABLE counters(name text NOT NULL, period text NOT NULL, value bigint NOT NULL, PRIMARY KEY(name, period));
        """

    /// What a claim reads (`claim`): the unfinished items in listing order, without the done ones.
    /// Added to states made before them when they are opened.
    private static let claimIndexes = """
        CREATE INDEX items_to_claim ON items(listed_generation, listed_order) WHERE status IN ('pending', 'failed');
        CREATE INDEX items_in_progress ON items(listed_generation, listed_order) WHERE status = 'in_progress';
        """

    /// The columns a schedule's claim orders and filters by (`ScheduleClass`), added to a state made
    /// without them: additive, so the schema stays 1.
    private static let scheduleColumns = """
        ALTER TABLE items ADD COLUMN IF NOT EXISTS schedule_rank integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS window_class integer NOT NULL DEFAULT 0;
        """

    /// The partial index a claim in `order` reads: waiting items by window class, in claim order.
    static func claimIndex(_ order: ScheduleOrder) -> String {
        let key = order.sqlTerm.isEmpty ? "" : order.sqlTerm + ", "
        return "CREATE INDEX IF NOT EXISTS \(claimIndexName(order)) ON items(listed_generation, window_class, schedule_rank, failures, \(key)listed_order) WHERE status IN ('pending', 'failed');"
    }

    static func claimIndexName(_ order: ScheduleOrder) -> String {
        "items_claim_" + order.rawValue.replacingOccurrences(of: "-", with: "_")
    }

    /// What the failure analysis and the run history keep (issue 15): three columns on items, each
    /// item's last failures, the runs. Additive and idempotent, with no schema number of its own:
    /// added to a state made before them when it is opened, and a pipeline that knows none of it
    /// still opens the state (an item it inserts keeps the columns' defaults).
    private static let history = """
        ALTER TABLE items ADD COLUMN IF NOT EXISTS last_category text;
        ALTER TABLE items ADD COLUMN IF NOT EXISTS tried_runs integer NOT NULL DEFAULT 0;
        ALTER TABLE items ADD COLUMN IF NOT EXISTS last_tried_run bigint;
        CREATE TABLE IF NOT EXISTS failures(
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, path text NOT NULL, run bigint, stage text NOT NULL,
            category text NOT NULL, error text NOT NULL, attempt integer NOT NULL, at double precision NOT NULL);
        CREATE INDEX IF NOT EXISTS failures_by_path ON failures(path, id);
        CREATE INDEX IF NOT EXISTS items_failed ON items(listed_order) WHERE status = 'failed';
        CREATE TABLE IF NOT EXISTS runs(
            number bigint PRIMARY KEY, runner text NOT NULL, started_at double precision NOT NULL, ended_at double precision,
            exit_code integer, completed bigint NOT NULL DEFAULT 0, failed bigint NOT NULL DEFAULT 0, skipped bigint NOT NULL DEFAULT 0,
            left_items bigint NOT NULL DEFAULT 0, bytes_completed bigint NOT NULL DEFAULT 0, failures_by_category text,
            stop_cause text, items_left bigint, bytes_left bigint);
        """

    /// Checks the database is ours, or creates the tables in an empty one; in one transaction under
    /// an advisory lock, so runners starting together create them once.
    private static func prepareSchema(_ connection: PostgresConnection, create: Bool) throws {
        let target = connection.target
        try connection.transaction {
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [.int64(schemaLockKey)])
            let refuse = { (why: String, hint: String) in
                PipelineError(.badData, "the database \(target) \(why); it was left untouched", hint: hint)
            }
            let hasMeta = try connection.execute("SELECT to_regclass('meta') IS NOT NULL").rows.first?.first?.bool ?? false
            if hasMeta {
                let rows = try connection.execute("SELECT key, value FROM meta WHERE key IN ('format', 'schema')").rows
                let values = Dictionary(rows.compactMap { row in row[0].text.map { ($0, row[1].text ?? "") } }, uniquingKeysWith: { first, _ in first })
                guard values["format"] == formatMarker else {
                    throw refuse("has a table 'meta' but is not a pipeline state", "point the state URL at a database of its own for pipeline")
                }
                if let schema = values["schema"], schema != schemaVersion {
                    throw refuse("has state schema \(schema), and this pipeline reads schema \(schemaVersion) only (made by another version of pipeline?)",
                                 "use the pipeline version that made it, or start a new state in an empty database")
                }
                if try connection.execute("SELECT to_regclass('items_to_claim') IS NULL").rows.first?.first?.bool == true {
                    try connection.executeScript(claimIndexes)
                }
                if try connection.execute("SELECT to_regclass('items_claim_listed') IS NULL").rows.first?.first?.bool == true {
                    try connection.executeScript(scheduleColumns + claimIndex(.listed))
                }
                if try connection.execute("SELECT to_regclass('runs') IS NULL").rows.first?.first?.bool == true {
                    try connection.executeScript(history)
                }
                return
            }
            let tables = try connection.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").rows.first?.first?.int64 ?? 0
            if tables > 0 {
                throw refuse("holds \(tables) tables but is not a pipeline state", "give pipeline an empty database of its own (createdb, or your provider's console)")
            }
            guard create else {
                throw PipelineError(.missingInput, "the database \(target) holds no pipeline state yet", hint: "a state is created by the first `pipeline run`")
            }
            try connection.executeScript(schema)
            try connection.execute("INSERT INTO meta(key, value) VALUES ('format', $1), ('schema', $2), ('created_at', $3)",
                                   [.text(formatMarker), .text(schemaVersion), .text(UTCTimestamp.now())])
        }
    }

    // MARK: The connection

    /// Runs `body` with the open connection and the token map, turning the binding's errors into
    /// `PipelineError`s (their messages never hold the password).
    private func withSession<T>(_ body: (PostgresConnection, inout [String: Int64]) throws -> T) throws -> T {
        try session.withLock { session in
            guard let connection = session.connection else {
                throw PipelineError(.internalError, "the PostgreSQL state \(target) is already closed")
            }
            do {
                return try body(connection, &session.tokens)
            } catch let failure as PostgresError {
                throw failure.pipelineError
            }
        }
    }

    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withSession { connection, _ in try body(connection) }
    }

    /// The server's clock, seconds since 1970: every time the state records or compares.
    private static let serverNow = "extract(epoch FROM clock_timestamp())::float8"

    private static let serverTimeStatement = PostgresStatement("SELECT \(serverNow)")

    private static func serverTime(_ result: PostgresResult) throws -> Double {
        guard let now = result.rows.first?.first?.double else {
            throw PipelineError(.badData, "the PostgreSQL server did not tell its time", hint: "check the server, then run again")
        }
        return now
    }

    /// Paths as one parameter (a JSON array), for `path = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))`.
    private static func pathList(_ paths: some Sequence<String>) -> PostgresValue {
        .text(JSONValue.array(paths.map { .string($0) }).jsonText())
    }

    /// `= ANY(ARRAY(…))`, not `IN (SELECT …)`: the array is built first, so the primary key is
    /// searched for each path instead of the table being scanned (1.6× the commits a second at 4,000 items).
    private static let inPaths = "= ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"

    // MARK: Transitions

    /// Runs on a thread of its own (the connection blocks); see `commitSynchronously`.
    /// Merged with the commits of this runner's other items in flight (`GroupCommit`): each
    /// transaction costs two round trips, and one runner's items share one connection.
    public func commit(_ transitions: [StateTransition]) async throws {
        try await groupCommit.commit(transitions, perform: { try await Blocking.run($0) }) { [self] in
            try commitSynchronously($0)
        }
    }

    /// Commits in one transaction of two round trips, fenced: the named items are locked
    /// (`FOR UPDATE`) and read with their stage records and the server's time, all in one flight,
    /// and checked against their leases; if any fails, nothing is committed and `LeaseLost` names
    /// them. The ledger decides, and its writes go with the COMMIT.
    public func commitSynchronously(_ transitions: [StateTransition]) throws {
        guard !transitions.isEmpty else { _ = try withConnection { _ in () }; return }
        let run = self.run.withLock { $0 }
        try withSession { connection, tokens in
            var order: [String] = []
            var named = Set<String>()
            for transition in transitions where named.insert(transition.path).inserted { order.append(transition.path) }
            let paths = Self.pathList(order)
            try connection.transaction(reading: [
                PostgresStatement("SELECT \(Self.itemColumns), lease_owner, lease_token, lease_expires FROM items WHERE path \(Self.inPaths) FOR UPDATE",
                                  [paths]),
                // Read once the locks are held (the statement before waits for them): a lease is
                // judged at the moment nobody can change it.
                Self.serverTimeStatement,
                Self.stageRecordsStatement(paths),
            ]) { results in
                let now = try Self.serverTime(results[1])
                var records: [String: ItemRecord] = [:]
                var lost: [String] = []
                for row in results[0].rows {
                    let record = try Self.itemRecord(row)
                    records[record.path] = record
                    let lease = Self.itemColumnCount
                    let owner = row[lease].text, token = row[lease + 1].int64, expires = row[lease + 2].double ?? 0
                    if !holds(owner: owner, token: token, expires: expires, now: now, mine: tokens[record.path]) { lost.append(record.path) }
                }
                if !lost.isEmpty { throw LeaseLost(paths: lost.sorted()) }
                let stages = try Self.stageRecords(results[2].rows)
                var ledgers: [String: ItemLedger] = [:]
                for path in order {
                    ledgers[path] = ItemLedger(path: path, item: records[path], stages: stages[path] ?? [:])
                }
                for transition in transitions {
                    try ledgers[transition.path]!.apply(transition, at: now, run: run)
                }
                return (order.flatMap { Self.writes(ledgers[$0]!) }, ())
            }
        }
    }

    /// Whether this store may write an item whose lease stands as given (`mine`: the token this
    /// store was given for it, if any).
    private func holds(owner: String?, token: Int64?, expires: Double, now: Double, mine: Int64?) -> Bool {
        if let mine { return owner == runner.id && token == mine && expires > now }
        return owner == nil || owner == runner.id || expires <= now
    }

    public func recordListing(_ items: [SourceItem]) throws -> ListingChanges {
        try record(items, generation: nil)
    }

    /// Records `items` as listed in `generation` (the latest when nil), in one transaction of two
    /// round trips: the items are locked and read with the server's time in one flight, the ledger
    /// decides each, and the writes, with each item's `extra` and generation, go with the COMMIT.
    private func record(_ items: [SourceItem], generation: Int64?) throws -> ListingChanges {
        guard !items.isEmpty else {
            if let generation { try withConnection { try Self.checkGenerationExists(generation, in: $0) } }
            return ListingChanges()
        }
        var latest: [String: SourceItem] = [:]
        var order: [String] = []
        for item in items where latest.updateValue(item, forKey: item.path) == nil { order.append(item.path) }
        return try withConnection { connection in
            try connection.transaction(reading: [
                PostgresStatement("SELECT generation FROM listings WHERE generation = $1", [.int64(generation ?? 0)]),
                PostgresStatement("SELECT COALESCE(MAX(generation), 0) FROM listings"),
                PostgresStatement("SELECT \(Self.itemColumns) FROM items WHERE path \(Self.inPaths) FOR UPDATE", [Self.pathList(order)]),
                Self.serverTimeStatement,
            ]) { results in
                if let generation, generation < 1 || results[0].rows.isEmpty { throw Self.neverBegun(generation) }
                let listed = generation ?? results[1].rows.first?.first?.int64 ?? 0
                let now = try Self.serverTime(results[3])
                var records: [String: ItemRecord] = [:]
                for row in results[2].rows {
                    let record = try Self.itemRecord(row)
                    records[record.path] = record
                }
                var changes = ListingChanges()
                var writes: [PostgresStatement] = []
                for item in items {
                    var ledger = ItemLedger(path: item.path, item: records[item.path], allStagesKnown: records[item.path] == nil)
                    switch ledger.listed(item, at: now) {
                    case .added: changes.added += 1
                    case .changed: changes.changed.append(item.path)
                    case .kept: break
                    }
                    writes += Self.writes(ledger)
                    records[item.path] = ledger.item
                }
                writes.append(PostgresStatement("""
                    UPDATE items SET extra = listed.value, listed_generation = GREATEST(listed_generation, $2)
                    FROM jsonb_each_text($1::jsonb) AS listed(key, value) WHERE items.path = listed.key
                    """, [.text(JSONValue.object(latest.mapValues { .string(JSONValue.object($0.extra).jsonText()) }).jsonText()), .int64(listed)]))
                return (writes, changes)
            }
        }
    }

    // MARK: Storing what the rules decide

    /// The statements that write what the rules changed (a new item takes the next listed order
    /// from the sequence).
    private static func writes(_ ledger: ItemLedger) -> [PostgresStatement] {
        let path = PostgresValue.text(ledger.path)
        return ledger.writes.flatMap { write -> [PostgresStatement] in
            switch write {
            case .deleteAllStages:
                return [PostgresStatement("DELETE FROM stages WHERE path = $1", [path])]
            case .deleteStage(let stage):
                return [PostgresStatement("DELETE FROM stages WHERE path = $1 AND stage = $2", [path, .text(stage)])]
            case .putStage(let record):
                return [PostgresStatement("""
                    INSERT INTO stages(path, stage, status, attempt, outputs, checkpoint, error, pid, pid_start, updated_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT(path, stage) DO UPDATE SET status = excluded.status,
                        attempt = excluded.attempt, outputs = excluded.outputs, checkpoint = excluded.checkpoint, error = excluded.error,
                        pid = excluded.pid, pid_start = excluded.pid_start, updated_at = excluded.updated_at
                    """, [path, .text(record.stage), .text(record.status.rawValue), .int64(Int64(record.attempt)),
                          PostgresValue(record.storedOutputs), PostgresValue(record.storedCheckpoint), PostgresValue(record.error),
                          PostgresValue(record.processID.map(Int64.init)), PostgresValue(record.processStart), PostgresValue(real: record.updatedAt)])]
            case .deleteItem:
                return [PostgresStatement("DELETE FROM items WHERE path = $1", [path])]
            case .updateItem(let record):
                return [PostgresStatement("""
                    UPDATE items SET size = $2, modified = $3, status = $4, stage = $5, failures = $6, last_error = $7, first_failed = $8,
                        last_failed = $9, skip_reason = $10, updated_at = $11, completed_at = $12, last_category = $13, tried_runs = $14,
                        last_tried_run = $15 WHERE path = $1
                    """, [path] + fields(record))]
            case .insertItem(let record):
                return [PostgresStatement("""
                    INSERT INTO items(path, size, modified, status, stage, failures, last_error, first_failed, last_failed,
                        skip_reason, updated_at, completed_at, last_category, tried_runs, last_tried_run, listed_generation)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, (SELECT COALESCE(MAX(generation), 0) FROM listings))
                    """, [path] + fields(record))]
            case .recordFailure(let evidence):
                return [
                    PostgresStatement("INSERT INTO failures(path, run, stage, category, error, attempt, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                      [path, PostgresValue(evidence.run), .text(evidence.stage), .text(evidence.category.rawValue), .text(evidence.error),
                                       .int64(Int64(evidence.attempt)), .double(evidence.at)]),
                    PostgresStatement("""
                        DELETE FROM failures WHERE path = $1 AND id NOT IN (SELECT id FROM failures WHERE path = $1 ORDER BY id DESC LIMIT $2)
                        """, [path, .int64(Int64(FailureEvidence.limit))]),
                ]
            case .withdrawFailures(let run):
                return [PostgresStatement("DELETE FROM failures WHERE path = $1 AND run = $2", [path, .int64(run)])]
            case .deleteFailures:
                return [PostgresStatement("DELETE FROM failures WHERE path = $1", [path])]
            }
        }
    }

    /// An item's columns after its path.
    private static func fields(_ record: ItemRecord) -> [PostgresValue] {
        [PostgresValue(record.size), PostgresValue(record.modified), .text(record.status.rawValue), PostgresValue(record.stage),
         .int64(Int64(record.failures)), PostgresValue(record.lastError), PostgresValue(real: record.firstFailed),
         PostgresValue(real: record.lastFailed), PostgresValue(record.skipReason), PostgresValue(real: record.updatedAt),
         PostgresValue(real: record.completedAt), PostgresValue(record.lastCategory?.rawValue), .int64(Int64(record.triedRuns)),
         PostgresValue(record.lastTriedRun)]
    }

    // MARK: Reading

    private static let itemColumns = "path, size, modified, status, stage, failures, last_error, first_failed, last_failed, skip_reason, "
        + "updated_at, completed_at, last_category, tried_runs, last_tried_run"
    /// How many `itemColumns` there are: the columns a query reads after them start here.
    private static let itemColumnCount = 15

    /// An item row (`itemColumns` first), checked: nothing from the server is trusted blindly.
    private static func itemRecord(_ row: [PostgresValue]) throws -> ItemRecord {
        guard let path = row[0].text else { throw damaged("an item without a path") }
        guard let statusText = row[3].text, let status = ItemStatus(rawValue: statusText) else {
            throw damaged("item '\(path)' has the status '\(row[3].text ?? "NULL")', which pipeline does not know")
        }
        if let size = row[1].int64, size < 0 { throw damaged("item '\(path)' has a negative size (\(size))") }
        var record = ItemRecord(path: path, size: row[1].int64, modified: row[2].text, status: status)
        record.stage = row[4].text
        guard let failures = row[5].int64, failures >= 0, failures <= Int64(Int32.max) else {
            throw damaged("item '\(path)' has a failure count out of range")
        }
        record.failures = Int(failures)
        record.lastError = row[6].text
        record.firstFailed = row[7].double
        record.lastFailed = row[8].double
        record.skipReason = row[9].text
        record.updatedAt = row[10].double
        record.completedAt = row[11].double
        if let category = row[12].text {
            guard let known = FailureCategory(rawValue: category) else {
                throw damaged("item '\(path)' has the failure category '\(category)', which pipeline does not know")
            }
            record.lastCategory = known
        }
        guard let tried = row[13].int64, tried >= 0, tried <= Int64(Int32.max) else { throw damaged("item '\(path)' has a count of tried runs out of range") }
        record.triedRuns = Int(tried)
        record.lastTriedRun = row[14].int64
        return record
    }

    private static func damaged(_ what: String) -> PipelineError {
        PipelineError(.badData, "the PostgreSQL state is damaged: \(what)",
                      hint: "fix or forget that item (`pipeline forget`), or restore the state from a backup")
    }

    /// A JSON object column, checked.
    private static func jsonObject(_ value: PostgresValue, _ what: @autoclosure () -> String) throws -> [String: JSONValue]? {
        guard let text = value.text else { return nil }
        guard let object = (try? JSONValue.parse(text))?.objectValue else { throw damaged("\(what()) is not a JSON object") }
        return object
    }

    public func item(_ path: String) throws -> ItemRecord? {
        try withConnection { connection in
            try connection.execute("SELECT \(Self.itemColumns) FROM items WHERE path = $1", [.text(path)]).rows.first.map(Self.itemRecord)
        }
    }

    public func allItems() throws -> [ItemRecord] {
        try withConnection { connection in
            try connection.execute("SELECT \(Self.itemColumns) FROM items ORDER BY listed_order").rows.map(Self.itemRecord)
        }
    }

    public func stageRecords(for path: String) throws -> [String: StageRecord] {
        try withConnection { connection in try Self.stageRecords(forPaths: [path], in: connection)[path] ?? [:] }
    }

    /// The stage records of `paths`, by path and stage.
    private static func stageRecords(forPaths paths: [String], in connection: PostgresConnection) throws -> [String: [String: StageRecord]] {
        let statement = stageRecordsStatement(pathList(paths))
        return try stageRecords(connection.execute(statement.sql, statement.parameters).rows)
    }

    /// Reads the stage records of the paths in `paths` (a `pathList`).
    private static func stageRecordsStatement(_ paths: PostgresValue) -> PostgresStatement {
        PostgresStatement("SELECT path, stage, status, attempt, outputs, checkpoint, error, pid, pid_start, updated_at FROM stages WHERE path \(inPaths)",
                          [paths])
    }

    /// Stage record rows (`stageRecordsStatement`), checked, by path and stage.
    private static func stageRecords(_ rows: [[PostgresValue]]) throws -> [String: [String: StageRecord]] {
        var records: [String: [String: StageRecord]] = [:]
        for row in rows {
            guard let path = row[0].text, let stage = row[1].text else { throw damaged("a stage record without a path or stage") }
            let what = "stage '\(stage)' of item '\(path)'"
            guard let status = row[2].text.flatMap(StageRecord.Status.init(rawValue:)) else {
                throw damaged("\(what) has the status '\(row[2].text ?? "NULL")', which pipeline does not know")
            }
            guard let attempt = row[3].int64, (0...Int64(Int32.max)).contains(attempt) else { throw damaged("\(what) has an attempt out of range") }
            var record = StageRecord(stage: stage, status: status, attempt: Int(attempt))
            record.outputs = try jsonObject(row[4], "the outputs of \(what)") ?? [:]
            record.checkpoint = try jsonObject(row[5], "the checkpoint of \(what)")
            record.error = row[6].text
            if let pid = row[7].int64 {
                guard let processID = Int32(exactly: pid) else { throw damaged("\(what) has a process id out of range") }
                record.processID = processID
            }
            record.processStart = row[8].text
            record.updatedAt = row[9].double
            records[path, default: [:]][stage] = record
        }
        return records
    }

    /// One aggregate query, counted by the database.
    public func summary(maxFailures: Int) throws -> StateSummary {
        try withConnection { connection in
            var summary = StateSummary()
            let rows = try connection.execute("""
                SELECT status, count(*), COALESCE(sum(size), 0)::bigint, count(*) FILTER (WHERE failures >= $1)
                FROM items GROUP BY status
                """, [.int64(Int64(maxFailures))]).rows
            for row in rows {
                let count = Int(row[1].int64 ?? 0)
                let bytes = row[2].int64 ?? 0
                guard let status = row[0].text.flatMap(ItemStatus.init(rawValue:)) else {
                    throw Self.damaged("\(count) items have the status '\(row[0].text ?? "NULL")', which pipeline does not know")
                }
                summary.total += count
                summary.totalBytes += bytes
                switch status {
                case .pending: summary.pending = count
                case .inProgress: summary.inProgress = count
                case .completed:
                    summary.completed = count
                    summary.completedBytes = bytes
                case .failed:
                    summary.failed = count
                    summary.givenUp = Int(row[3].int64 ?? 0)
                case .skipped: summary.skipped = count
                }
            }
            return summary
        }
    }

    public func givenUpItems(maxFailures: Int, limit: Int) throws -> [ItemRecord] {
        try withConnection { connection in
            try connection.execute("SELECT \(Self.itemColumns) FROM items WHERE status = 'failed' AND failures >= $1 ORDER BY listed_order LIMIT $2",
                                   [.int64(Int64(maxFailures)), .int64(Int64(max(0, limit)))]).rows.map(Self.itemRecord)
        }
    }

    /// In listed order, after the cursor: one bounded read a page.
    public func unfinishedSizes(maxFailures: Int, after cursor: SizePage.Cursor?, limit: Int) throws -> SizePage {
        try withConnection { connection in
            let rows = try connection.execute("""
                SELECT COALESCE(size, 0), listed_order FROM items
                WHERE listed_order > $2 AND (status IN ('pending', 'in_progress') OR (status = 'failed' AND failures < $1))
                ORDER BY listed_order LIMIT $3
                """, [.int64(Int64(maxFailures)), .int64(cursor?.position ?? Int64.min), .int64(Int64(max(1, limit)))]).rows
            let sizes = try rows.map { row in
                guard let size = row[0].int64 else { throw Self.damaged("a size came back empty") }
                return size
            }
            let next = rows.count == max(1, limit) ? rows.last?[1].int64.map { SizePage.Cursor(group: 0, position: $0) } : nil
            return SizePage(sizes: sizes, next: next)
        }
    }

    // MARK: Maintenance

    /// Loads each of `paths` (locked), lets `decide` change its ledger, writes what changed; returns how many did.
    private func changeItems(_ paths: [String], _ decide: (inout ItemLedger) -> Bool) throws -> Int {
        try withConnection { connection in
            try connection.transaction(reading: [
                PostgresStatement("SELECT \(Self.itemColumns) FROM items WHERE path \(Self.inPaths) FOR UPDATE", [Self.pathList(paths)]),
            ]) { results in
                var records: [String: ItemRecord] = [:]
                for row in results[0].rows {
                    let record = try Self.itemRecord(row)
                    records[record.path] = record
                }
                var changed = 0
                var writes: [PostgresStatement] = []
                for path in paths {
                    var ledger = ItemLedger(path: path, item: records[path], allStagesKnown: records[path] == nil)
                    guard decide(&ledger) else { continue }
                    writes += Self.writes(ledger)
                    records[path] = ledger.item
                    changed += 1
                }
                return (writes, changed)
            }
        }
    }

    public func retry(paths: [String]?, includeSkipped: Bool) throws -> Int {
        let candidates = try paths ?? withConnection { connection in
            let statuses = ItemLedger.retryableStatuses(includeSkipped: includeSkipped).map { JSONValue.string($0.rawValue) }
            return try connection.execute("SELECT path FROM items WHERE status IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY listed_order",
                                          [.text(JSONValue.array(statuses).jsonText())]).rows.compactMap { $0.first?.text }
        }
        return try changeItems(candidates) { $0.retry(includeSkipped: includeSkipped) }
    }

    public func forget(path: String) throws -> Bool {
        try changeItems([path]) { $0.forget() } == 1
    }

    public func importItems(_ records: [ItemRecord]) throws {
        var byPath: [String: ItemRecord] = [:]
        for record in records { byPath[record.path] = record }
        var order: [String] = []
        for record in records where !order.contains(record.path) { order.append(record.path) }
        _ = try changeItems(order) { ledger in
            ledger.imported(byPath[ledger.path]!)
            return true
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try withConnection { connection in
            try connection.execute("SELECT value FROM meta WHERE key = $1", [.text(key)]).rows.first?.first?.text
        }
    }

    public func setMetadata(_ changes: [String: String?]) throws {
        try withConnection { connection in
            try connection.transaction {
                for (key, value) in changes {
                    if let value {
                        try connection.execute("INSERT INTO meta(key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                               [.text(key), .text(value)])
                    } else {
                        try connection.execute("DELETE FROM meta WHERE key = $1", [.text(key)])
                    }
                }
            }
        }
    }

    /// A new state file with everything in it, written by `StateCopier` page by page (what
    /// `pipeline state pull` does): each page as it stood when read, while runners may go on.
    public func saveCopy(to path: String) throws {
        _ = try withConnection { _ in () }
        _ = try StateCopier().copyToNewFile(from: self, path: path)
    }

    // MARK: Moving a state between stores

    /// One transaction on one snapshot (`REPEATABLE READ`): the items and their stage records as
    /// they stood together at one moment, though runners write meanwhile.
    public func itemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage {
        try ItemPage.check(limit)
        return try withConnection { connection in
            try connection.transaction {
                try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                let rows = try connection.execute("""
                    SELECT \(Self.itemColumns), listed_order FROM items WHERE listed_order > $1 ORDER BY listed_order LIMIT $2
                    """, [.int64(cursor?.position ?? Int64.min), .int64(Int64(limit))]).rows
                let records = try rows.map { row in (try Self.itemRecord(row), row[Self.itemColumnCount].int64 ?? 0) }
                let stages = try Self.stageRecords(forPaths: records.map(\.0.path), in: connection)
                let failures = try Self.failures(ofPaths: records.map(\.0.path), in: connection)
                return ItemPage.of(records.map { (StoredItem(record: $0.0, stages: stages[$0.0.path] ?? [:], failures: failures[$0.0.path] ?? []), $0.1) },
                                   limit: limit)
            }
        }
    }

    /// Through the ledger like any change; new items join the latest listing generation.
    public func storeItems(_ items: [StoredItem]) throws {
        var byPath: [String: StoredItem] = [:]
        var order: [String] = []
        for stored in items where byPath.updateValue(stored, forKey: stored.record.path) == nil { order.append(stored.record.path) }
        _ = try changeItems(order) { ledger in
            let stored = byPath[ledger.path]!
            ledger.restored(stored.record, stages: stored.stages, failures: stored.failures)
            return true
        }
    }

    public func metadataEntries() throws -> [String: String] {
        try withConnection { connection in
            var entries: [String: String] = [:]
            for row in try connection.execute("SELECT key, value FROM meta").rows {
                if let key = row[0].text { entries[key] = row[1].text ?? "" }
            }
            return entries
        }
    }

    public func counters() throws -> [StateCounter] {
        try withConnection { connection in
            try connection.execute("SELECT name, period, value FROM counters ORDER BY name, period").rows.map { row in
                guard let name = row[0].text, let period = row[1].text, let value = row[2].int64, let count = Int(exactly: value), count >= 0 else {
                    throw Self.damaged("a counter is incomplete or out of range")
                }
                return StateCounter(name: name, period: period, value: count)
            }
        }
    }

    public func setCounters(_ counters: [StateCounter]) throws {
        for counter in counters {
            try Self.checkName(counter.name, "a counter")
            try Self.check(counter.value, in: 0...Int(Int64.max / 2), "a counter's value")
        }
        try withConnection { connection in
            try connection.transaction {
                for counter in counters {
                    try connection.execute("""
                        INSERT INTO counters(name, period, value) VALUES ($1, $2, $3)
                        ON CONFLICT(name, period) DO UPDATE SET value = excluded.value
                        """, [.text(counter.name), .text(counter.period), .int64(Int64(counter.value))])
                }
            }
        }
    }

    public func removeEverything() throws {
        try withSession { connection, tokens in
            try connection.transaction {
                try connection.execute("DELETE FROM stages")
                try connection.execute("DELETE FROM items")
                try connection.execute("DELETE FROM failures")
                try connection.execute("DELETE FROM runs")
                try connection.execute("DELETE FROM listings")
                try connection.execute("DELETE FROM roles")
                try connection.execute("DELETE FROM counters")
                try connection.execute("DELETE FROM meta WHERE NOT (key = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb))))",
                                       [Self.pathList(StoreMetadataKeys.own.sorted())])
            }
            tokens = [:]
        }
    }

    public func liveLeaseCount() throws -> Int {
        try withConnection { connection in
            let count = try connection.execute("SELECT count(*) FROM items WHERE lease_owner IS NOT NULL AND lease_expires > \(Self.serverNow)")
                .rows.first?.first?.int64 ?? 0
            return Int(count)
        }
    }

    /// Closes the connection; the state stays on the server. Safe to call more than once.
    public func close() throws {
        session.withLock { session in
            session.connection?.close()
            session.connection = nil
            session.tokens = [:]
        }
    }

    // MARK: Run history and failures

    /// `max + 1` under a transaction-scoped advisory lock: runners beginning at once get numbers one after another.
    public func beginRun(runner: String, startedAt: Double) throws -> Int64 {
        let number = try withConnection { connection in
            try connection.transaction {
                try connection.execute("SELECT pg_advisory_xact_lock($1)", [.int64(Self.runNumberLockKey)])
                let rows = try connection.execute("""
                    INSERT INTO runs(number, runner, started_at) SELECT COALESCE(MAX(number), 0) + 1, $1, $2 FROM runs RETURNING number
                    """, [.text(runner), .double(startedAt)]).rows
                guard let number = rows.first?.first?.int64 else { throw Self.damaged("a new run came back without its number") }
                return number
            }
        }
        run.withLock { $0 = number }
        return number
    }

    /// The advisory lock that hands out run numbers one at a time.
    private static let runNumberLockKey: Int64 = schemaLockKey + 1

    public func finishRun(_ record: RunRecord) throws {
        try withConnection { connection in
            try connection.execute("""
                UPDATE runs SET ended_at = $2, exit_code = $3, completed = $4, failed = $5, skipped = $6, left_items = $7, bytes_completed = $8,
                    failures_by_category = $9, stop_cause = $10, items_left = $11, bytes_left = $12 WHERE number = $1
                """, [.int64(record.number)] + Self.runFields(record))
        }
    }

    public func storeRuns(_ records: [RunRecord]) throws {
        try withConnection { connection in
            try connection.transaction {
                for record in records {
                    try connection.execute("""
                        INSERT INTO runs(number, runner, started_at, ended_at, exit_code, completed, failed, skipped, left_items, bytes_completed,
                            failures_by_category, stop_cause, items_left, bytes_left) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                        ON CONFLICT(number) DO UPDATE SET runner = excluded.runner, started_at = excluded.started_at, ended_at = excluded.ended_at,
                            exit_code = excluded.exit_code, completed = excluded.completed, failed = excluded.failed, skipped = excluded.skipped,
                            left_items = excluded.left_items, bytes_completed = excluded.bytes_completed,
                            failures_by_category = excluded.failures_by_category, stop_cause = excluded.stop_cause,
                            items_left = excluded.items_left, bytes_left = excluded.bytes_left
                        """, [.int64(record.number), .text(record.runner), .double(record.startedAt)] + Self.runFields(record))
                }
            }
        }
    }

    /// A run's columns after its number, runner and start.
    private static func runFields(_ record: RunRecord) -> [PostgresValue] {
        [PostgresValue(real: record.endedAt), PostgresValue(record.exitCode.map(Int64.init)), .int64(Int64(record.completed)),
         .int64(Int64(record.failed)), .int64(Int64(record.skipped)), .int64(Int64(record.left)), .int64(record.bytesCompleted),
         .text(record.storedFailuresByCategory), PostgresValue(record.stopCause?.rawValue), PostgresValue(record.itemsLeft.map(Int64.init)),
         PostgresValue(record.bytesLeft)]
    }

    public func runs(limit: Int) throws -> [RunRecord] {
        try withConnection { connection in
            try connection.execute("""
                SELECT number, runner, started_at, ended_at, exit_code, completed, failed, skipped, left_items, bytes_completed,
                    failures_by_category, stop_cause, items_left, bytes_left FROM runs ORDER BY number DESC LIMIT $1
                """, [.int64(Int64(max(0, limit)))]).rows.reversed().map { row in
                let count = { (value: PostgresValue) in Int(clamping: max(0, value.int64 ?? 0)) }
                return RunRecord(number: row[0].int64 ?? 0, runner: row[1].text ?? "", startedAt: row[2].double ?? 0, endedAt: row[3].double,
                                 exitCode: row[4].int64.flatMap { Int32(exactly: $0) }, completed: count(row[5]), failed: count(row[6]),
                                 skipped: count(row[7]), left: count(row[8]), bytesCompleted: max(0, row[9].int64 ?? 0),
                                 failuresByCategory: RunRecord.failuresByCategory(stored: row[10].text),
                                 stopCause: row[11].text.flatMap(RunOutcome.StopCause.init(rawValue:)),
                                 itemsLeft: row[12].int64.map { Int(clamping: max(0, $0)) }, bytesLeft: row[13].int64.map { max(0, $0) })
            }
        }
    }

    public func failedItemsByCategory() throws -> [FailureCategory: Int] {
        try withConnection { connection in
            var counts: [FailureCategory: Int] = [:]
            for row in try connection.execute("SELECT last_category, count(*) FROM items WHERE status = 'failed' GROUP BY last_category").rows {
                counts[row[0].text.flatMap(FailureCategory.init(rawValue:)) ?? .other, default: 0] += Int(clamping: max(0, row[1].int64 ?? 0))
            }
            return counts
        }
    }

    public func failedItemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage {
        try ItemPage.check(limit)
        return try withConnection { connection in
            try connection.transaction {
                try connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                let rows = try connection.execute("""
                    SELECT \(Self.itemColumns), listed_order FROM items WHERE status = 'failed' AND listed_order > $1 ORDER BY listed_order LIMIT $2
                    """, [.int64(cursor?.position ?? Int64.min), .int64(Int64(limit))]).rows
                let records = try rows.map { row in (try Self.itemRecord(row), row[Self.itemColumnCount].int64 ?? 0) }
                let failures = try Self.failures(ofPaths: records.map(\.0.path), in: connection)
                return ItemPage.of(records.map { (StoredItem(record: $0.0, failures: failures[$0.0.path] ?? []), $0.1) }, limit: limit)
            }
        }
    }

    /// The failure histories of `paths`, each oldest first.
    private static func failures(ofPaths paths: [String], in connection: PostgresConnection) throws -> [String: [FailureEvidence]] {
        guard !paths.isEmpty else { return [:] }
        var found: [String: [FailureEvidence]] = [:]
        for row in try connection.execute("""
            SELECT path, run, stage, category, error, attempt, at FROM failures WHERE path \(inPaths) ORDER BY path, id
            """, [pathList(paths)]).rows {
            guard let path = row[0].text else { continue }
            found[path, default: []].append(FailureEvidence(
                path: path, run: row[1].int64, stage: row[2].text ?? "", category: row[3].text.flatMap(FailureCategory.init(rawValue:)) ?? .other,
                error: row[4].text ?? "", attempt: Int(clamping: max(1, row[5].int64 ?? 1)), at: row[6].double ?? 0))
        }
        return found
    }

    // MARK: Leases on items

    public func claimItems(limit: Int, maxFailures: Int, leaseFor duration: TimeSpan, plan: ClaimPlan) throws -> [ClaimedItem] {
        try Self.check(limit, in: 1...100_000, "a claim's limit")
        try Self.check(maxFailures, in: 1...Int(Int32.max), "max_failures")
        try Self.check(duration)
        if plan.order != .listed, claimIndexesMade.withLock({ !$0.contains(plan.order) }) {
            // Made once, by the first runner to claim in this order (under the schema's lock).
            try withConnection { connection in
                try connection.transaction {
                    try connection.execute("SELECT pg_advisory_xact_lock($1)", [.int64(Self.schemaLockKey)])
                    try connection.executeScript(Self.claimIndex(plan.order))
                }
            }
            _ = claimIndexesMade.withLock { $0.insert(plan.order) }
        }
        var parameters: [PostgresValue] = [.int64(Int64(limit)), .int64(Int64(maxFailures)), .text(runner.id), .double(duration.seconds)]
        if let sizeLimit = plan.sizeLimit { parameters.append(.int64(sizeLimit)) }
        return try withSession { connection, tokens in
            // One statement picks (skipping rows other claims have locked), leases and returns; in a
            // transaction, so that a row that does not read back leaves no lease behind.
            let claimed = try connection.transaction(reading: [PostgresStatement(Self.claim(plan), parameters)]) { results in
                (writes: [], value: try results[0].rows.map(Self.claimedItem))
            }
            for (item, _) in claimed { tokens[item.item.path] = item.lease.token }
            return claimed.sorted { plan.precedes($0.candidate, $1.candidate) }.map(\.item)
        }
    }

    /// The claim orders whose index this store made sure of.
    private let claimIndexesMade = Mutex(Set<ScheduleOrder>())

    /// Claims up to $1 items (max failures $2) for runner $3 for $4 seconds, of at most $5 bytes
    /// when `plan` has a size limit; returns `itemColumns`, extra, token, end of lease, listed
    /// order, rank and window class.
    ///
    /// Items in progress, then for each window class that may start now the waiting items in
    /// claim order: each read from a partial index (`items_in_progress`, `claimIndex(order)`) in
    /// its order, so a claim reads about as many rows as it takes however many items are done or
    /// wait for a closed window; one query ordering them all would sort every unfinished item of
    /// the state at every claim.
    static func claim(_ plan: ClaimPlan) -> String {
        let key = plan.order.sqlTerm.isEmpty ? "" : plan.order.sqlTerm + ", "
        let size = plan.sizeLimit == nil ? "" : " AND COALESCE(items.size, 0) <= $5"
        let waiting = plan.openClasses.map { window in
            """
            waiting\(window) AS (
                SELECT items.path, 1 AS resumed, items.listed_order, items.schedule_rank, items.failures, items.size, items.modified FROM items
                WHERE items.listed_generation = (SELECT generation FROM latest) AND items.status IN ('pending', 'failed')
                  AND items.window_class = \(window) AND (items.status = 'pending' OR items.failures < $2)\(size)
                  AND (items.lease_owner IS NULL OR items.lease_expires <= (SELECT t FROM now))
                ORDER BY items.schedule_rank, items.failures, \(key.replacingOccurrences(of: "size", with: "items.size").replacingOccurrences(of: "modified", with: "items.modified"))items.listed_order LIMIT $1
                FOR UPDATE OF items SKIP LOCKED)
            """
        }
        let either = (["SELECT * FROM resumed"] + plan.openClasses.map { "SELECT * FROM waiting\($0)" }).joined(separator: " UNION ALL ")
        return """
            WITH now AS (SELECT \(serverNow) AS t),
            latest AS (SELECT COALESCE(MAX(generation), 0) AS generation FROM listings),
            resumed AS (
                SELECT items.path, 0 AS resumed, items.listed_order, 0 AS schedule_rank, 0 AS failures, NULL::bigint AS size, NULL::text AS modified FROM items
                WHERE items.listed_generation = (SELECT generation FROM latest) AND items.status = 'in_progress'
                  AND (items.lease_owner IS NULL OR items.lease_expires <= (SELECT t FROM now))
                ORDER BY items.listed_order LIMIT $1
                FOR UPDATE OF items SKIP LOCKED),
            \(waiting.joined(separator: ",\n"))\(waiting.isEmpty ? "" : ",")
            picked AS (
                SELECT path FROM (\(either)) AS either
                ORDER BY resumed, schedule_rank, failures, \(key)listed_order LIMIT $1)
            UPDATE items SET lease_owner = $3, lease_token = nextval('lease_token_sequence'), lease_expires = (SELECT t FROM now) + $4
            FROM picked WHERE items.path = picked.path
            RETURNING \(itemColumns.split(separator: ",").map { "items." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")),
                items.extra, items.lease_token, items.lease_expires, items.listed_order, items.schedule_rank, items.window_class
            """
    }

    public func setScheduleClasses(_ classes: [String: ScheduleClass]) throws {
        guard !classes.isEmpty else { return }
        let rows = JSONValue.array(classes.map { path, schedule in
            .object(["path": .string(path), "rank": .number(Double(schedule.rank)), "w": .number(Double(schedule.window))])
        })
        try withConnection { connection in
            _ = try connection.execute("""
                UPDATE items SET schedule_rank = given.rank, window_class = given.w
                FROM jsonb_to_recordset($1::jsonb) AS given(path text, rank integer, w integer)
                WHERE items.path = given.path AND (items.schedule_rank <> given.rank OR items.window_class <> given.w)
                """, [.text(rows.jsonText())])
        }
    }

    public func waitingByWindow(maxFailures: Int) throws -> [Int: Int] {
        try withConnection { connection in
            let rows = try connection.execute("""
                SELECT window_class, count(*) FROM items
                WHERE listed_generation = (SELECT COALESCE(MAX(generation), 0) FROM listings) AND window_class > 0
                  AND (status = 'pending' OR (status = 'failed' AND failures < $1)) GROUP BY window_class
                """, [.int64(Int64(maxFailures))]).rows
            return Dictionary(rows.compactMap { row in row[0].int64.map { (Int($0), Int(row[1].int64 ?? 0)) } }, uniquingKeysWith: +)
        }
    }

    private static func claimedItem(_ row: [PostgresValue]) throws -> (item: ClaimedItem, candidate: ClaimPlan.Candidate) {
        let record = try itemRecord(row)
        let after = itemColumnCount
        guard let token = row[after + 1].int64, let expires = row[after + 2].double, let order = row[after + 3].int64 else {
            throw damaged("the claim of '\(record.path)' came back without its lease")
        }
        let extra = try jsonObject(row[after], "the listing's extra of item '\(record.path)'") ?? [:]
        let item = SourceItem(path: record.path, size: record.size ?? 0, modified: record.modified, extra: extra)
        let schedule = ScheduleClass(rank: Int(row[after + 4].int64 ?? 0), window: Int(row[after + 5].int64 ?? 0))
        let candidate = ClaimPlan.Candidate(inProgress: record.status == .inProgress, schedule: schedule, failures: record.failures,
                                            size: record.size, modified: record.modified, listedOrder: order)
        return (ClaimedItem(item: item, record: record, lease: ItemLease(path: record.path, token: token, expiresAt: expires)), candidate)
    }

    public func renewLeases(_ paths: [String], for duration: TimeSpan) throws -> [ItemLease] {
        try Self.check(duration)
        return try withSession { connection, tokens in
            let held = Dictionary(paths.compactMap { path in tokens[path].map { (path, JSONValue.string(String($0))) } }, uniquingKeysWith: { first, _ in first })
            let rows = try connection.execute("""
                WITH now AS (SELECT \(Self.serverNow) AS t)
                UPDATE items SET lease_expires = (SELECT t FROM now) + $3
                FROM jsonb_each_text($1::jsonb) AS held(path, token)
                WHERE items.path = held.path AND items.lease_token = held.token::bigint AND items.lease_owner = $2
                  AND items.lease_expires > (SELECT t FROM now)
                RETURNING items.path, items.lease_token, items.lease_expires
                """, [.text(JSONValue.object(held).jsonText()), .text(runner.id), .double(duration.seconds)]).rows
            var leases: [String: ItemLease] = [:]
            for row in rows {
                guard let path = row[0].text, let token = row[1].int64, let expires = row[2].double else {
                    throw Self.damaged("a renewed lease came back incomplete")
                }
                leases[path] = ItemLease(path: path, token: token, expiresAt: expires)
            }
            // A lease not renewed is lost for good: a commit for it is refused from now on.
            for path in paths where leases[path] == nil { tokens[path] = nil }
            return paths.compactMap { leases[$0] }
        }
    }

    public func releaseLeases(_ paths: [String]) throws {
        try withSession { connection, tokens in
            let held = Dictionary(paths.compactMap { path in tokens[path].map { (path, JSONValue.string(String($0))) } }, uniquingKeysWith: { first, _ in first })
            try connection.execute("""
                UPDATE items SET lease_owner = NULL, lease_token = NULL, lease_expires = NULL
                FROM jsonb_each_text($1::jsonb) AS held(path, token)
                WHERE items.path = held.path AND items.lease_token = held.token::bigint AND items.lease_owner = $2
                """, [.text(JSONValue.object(held).jsonText()), .text(runner.id)])
            for path in paths { tokens[path] = nil }
        }
    }

    // MARK: Roles and the listing

    public func holdRole(_ role: String, for duration: TimeSpan) throws -> Bool {
        try Self.check(duration)
        try Self.checkName(role, "a role")
        return try withConnection { connection in
            try !connection.execute("""
                INSERT INTO roles(role, owner, expires) VALUES ($1, $2, \(Self.serverNow) + $3)
                ON CONFLICT(role) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
                WHERE roles.owner = excluded.owner OR roles.expires <= \(Self.serverNow)
                RETURNING owner
                """, [.text(role), .text(runner.id), .double(duration.seconds)]).rows.isEmpty
        }
    }

    public func releaseRole(_ role: String) throws {
        try withConnection { connection in
            try connection.execute("DELETE FROM roles WHERE role = $1 AND owner = $2", [.text(role), .text(runner.id)])
        }
    }

    public func listingProgress() throws -> ListingProgress {
        try withConnection { connection in
            guard let row = try connection.execute("SELECT generation, complete FROM listings ORDER BY generation DESC LIMIT 1").rows.first else {
                return ListingProgress(generation: 0, complete: false)
            }
            guard let generation = row[0].int64, generation >= 1, let complete = row[1].bool else {
                throw Self.damaged("a listing generation is out of range")
            }
            return ListingProgress(generation: generation, complete: complete)
        }
    }

    public func beginListing() throws -> Int64 {
        try withConnection { connection in
            try connection.transaction {
                // Serialized with other beginnings: two listers never get the same number.
                try connection.execute("LOCK TABLE listings IN SHARE ROW EXCLUSIVE MODE")
                guard let generation = try connection.execute("""
                    INSERT INTO listings(generation, started_at) SELECT COALESCE(MAX(generation), 0) + 1, \(Self.serverNow) FROM listings
                    RETURNING generation
                    """).rows.first?.first?.int64 else {
                    throw Self.damaged("a new listing generation was not returned")
                }
                return generation
            }
        }
    }

    public func recordListing(_ items: [SourceItem], generation: Int64) throws -> ListingChanges {
        try record(items, generation: generation)
    }

    public func finishListing(_ generation: Int64) throws {
        try withConnection { connection in
            try Self.checkGenerationExists(generation, in: connection)
            try connection.execute("UPDATE listings SET complete = true, finished_at = \(Self.serverNow) WHERE generation = $1 AND NOT complete",
                                   [.int64(generation)])
        }
    }

    private static func checkGenerationExists(_ generation: Int64, in connection: PostgresConnection) throws {
        guard generation >= 1, try !connection.execute("SELECT 1 FROM listings WHERE generation = $1", [.int64(generation)]).rows.isEmpty else {
            throw neverBegun(generation)
        }
    }

    private static func neverBegun(_ generation: Int64) -> PipelineError {
        PipelineError(.usage, "listing generation \(generation) was never begun in the PostgreSQL state",
                      hint: "begin a listing (`beginListing`) and record under the number it returns; this is a bug in pipeline")
    }

    // MARK: Shared limits

    /// One statement: the counter rises only while it stays within `limit`, so runners spending
    /// at once stop at it exactly.
    public func spend(_ name: String, period: String, amount: Int, limit: Int) throws -> Bool {
        try Self.checkName(name, "a counter")
        try Self.check(amount, in: 0...Int(Int32.max), "the amount spent")
        try Self.check(limit, in: 0...Int(Int64.max / 2), "a counter's limit")
        guard amount <= limit else { return false }
        return try withConnection { connection in
            try !connection.execute("""
                INSERT INTO counters(name, period, value) VALUES ($1, $2, $3)
                ON CONFLICT(name, period) DO UPDATE SET value = counters.value + excluded.value
                WHERE counters.value + excluded.value <= $4
                RETURNING value
                """, [.text(name), .text(period), .int64(Int64(amount)), .int64(Int64(limit))]).rows.isEmpty
        }
    }

    // MARK: Range checks

    private static func check(_ value: Int, in range: ClosedRange<Int>, _ what: String) throws {
        guard range.contains(value) else {
            throw PipelineError(.usage, "\(what) of \(value) is out of range (\(range.lowerBound)…\(range.upperBound))",
                                hint: "this is a bug in pipeline: report it")
        }
    }

    private static func check(_ duration: TimeSpan) throws {
        guard duration.milliseconds > 0, duration <= TimeSpan.longest else {
            throw PipelineError(.usage, "a lease of \(duration) is out of range (more than 0, at most \(TimeSpan.longest))",
                                hint: "this is a bug in pipeline: report it")
        }
    }

    private static func checkName(_ name: String, _ what: String) throws {
        guard !name.isEmpty, name.utf8.count <= 200 else {
            throw PipelineError(.usage, "\(what) name must be 1…200 bytes long", hint: "this is a bug in pipeline: report it")
        }
    }
}

extension PostgresValue {
    init(real: Double?) { self = real.map { .double($0) } ?? .null }
}
