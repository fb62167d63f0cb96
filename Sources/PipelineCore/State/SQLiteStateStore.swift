import Foundation
import Synchronization

/// The embedded state store: one SQLite file.
///
/// While open it runs in WAL mode with `synchronous=NORMAL`: a commit is an append to the log,
/// survives `kill -9` (a power cut may lose the last few commits), and readers such as
/// `pipeline status` work alongside a run. `close()` checkpoints and returns to a rollback
/// journal so the state is again one file that can travel as a CI artifact.
///
/// It is a `SharedStateStore` like the server drivers, so a run works one way on every store:
/// the listing goes in batch by batch under a generation, work is claimed a few items at a time.
/// Only one process opens a state file (`StateLock`), so the leases, roles and their tokens live
/// in that process (`LeaseTable`) and cost no write: a lease cannot outlive the process that took
/// it. Several stores on one open state (`joined(as:)`) are the runners the conformance tests need.
public final class SQLiteStateStore: SharedStateStore {
    /// Written into `meta` so that a foreign SQLite file is never mistaken for ours.
    static let formatMarker = "pipeline-state"
    /// 2: items know the listing generation that last saw them while they awaited work (a finished
    /// item is never claimed, so a rerun with everything done writes nothing) and the source's `extra`.
    static let schemaVersion = "2"
    /// Schemas this version opens: older ones are brought to `schemaVersion` when opened for writing.
    static let readableSchemas: Set<String> = ["1", schemaVersion]

    public let path: String
    public let runner: RunnerIdentity
    public var answersAtOnce: Bool { true }
    private let shared: Shared
    private var now: Double { shared.now() }
    private let groupCommit = GroupCommit()
    /// The fencing tokens of the leases this runner was given, by path.
    private let tokens = Mutex<[String: Int64]>([:])
    /// This runner's run (`beginRun`), which its transitions are recorded under.
    private let run = Mutex<Int64?>(nil)
    /// Beyond this many, the recent items are forgotten (they are read again when needed).
    private static let recentLimit = 4096

    /// What every runner's store on one open state shares.
    private final class Shared: Sendable {
        let connection: Mutex<SQLiteConnection?>
        /// The items of recent commits as stored, so that an item's next commit reads nothing.
        /// Only this connection writes (the state lock sees to it); taken inside `connection`'s lock.
        let recent = Mutex([String: ItemLedger]())
        /// Taken inside `connection`'s lock when both are needed.
        let leases = Mutex(LeaseTable())
        /// The claim orders whose index this connection made sure of.
        let claimIndexes = Mutex(Set<ScheduleOrder>())
        let now: @Sendable () -> Double
        init(_ connection: SQLiteConnection, now: @escaping @Sendable () -> Double) {
            self.connection = Mutex(connection)
            self.now = now
        }
    }

    /// Opens (or, when `create` and absent, creates) the state at `path`.
    ///
    /// A file that is not a pipeline state, or is damaged, is refused and left untouched.
    /// `now` is the clock transitions are stamped with and leases timed by (seconds since 1970).
    public init(path: String, create: Bool = true, readOnly: Bool = false, runner: RunnerIdentity = .current(),
                now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws {
        self.path = path
        self.runner = runner
        let exists = FileManager.default.fileExists(atPath: path)
        if exists {
            try Self.checkIsOurs(path: path)
        } else if !create || readOnly {
            throw PipelineError(.missingInput, "no state file at '\(path)'", hint: "a state file is created by the first `pipeline run`")
        } else {
            let directory = (path as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let database: SQLiteConnection
        do {
            database = try SQLiteConnection(path: path, readOnly: readOnly)
            if !readOnly {
                try database.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
                if exists { try Self.migrate(database) } else { try Self.createSchema(database) }
                try Self.addScheduleColumns(database)
            } else {
                try Self.standInForHistory(database)
            }
        } catch let failure as SQLiteConnection.Failure {
            throw PipelineError(.io, "cannot open state file '\(path)': \(failure)")
        }
        self.shared = Shared(database, now: now)
    }

    private init(path: String, shared: Shared, runner: RunnerIdentity) {
        self.path = path
        self.shared = shared
        self.runner = runner
    }

    /// Another runner's store on the same open state (what a second process would be on a server).
    public func joined(as runner: RunnerIdentity) -> SQLiteStateStore {
        SQLiteStateStore(path: path, shared: shared, runner: runner)
    }

    /// The columns schema 2 adds to items: the listing generation that last saw an item, and the
    /// source's `extra` for it (JSON), so a claimed item is handed out as the source listed it.
    private static let schema2Items = "ALTER TABLE items ADD COLUMN listed_generation INTEGER NOT NULL DEFAULT 0; ALTER TABLE items ADD COLUMN extra TEXT;"
    /// Claims read unfinished items by status in listed order; a listing batch finds the last
    /// listed order (and a page of items its place) without reading the whole table.
    private static let schema2Index = "CREATE INDEX items_by_status ON items(status, listed_order); CREATE INDEX items_by_listed_order ON items(listed_order);"

    private static func createSchema(_ database: SQLiteConnection) throws {
        try database.transaction {
            try database.execute("""
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE items(
                    path TEXT PRIMARY KEY, listed_order INTEGER NOT NULL, size INTEGER, modified TEXT,
                    status TEXT NOT NULL, stage TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                    first_failed REAL, last_failed REAL, skip_reason TEXT, updated_at REAL, completed_at REAL,
                    listed_generation INTEGER NOT NULL DEFAULT 0, extra TEXT, \(historyItemColumns.joined(separator: ", "))
                ) WITHOUT ROWID;
                \(schema2Index)
                \(historyTables)
                CREATE TABLE stages(
                    path TEXT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, attempt INTEGER NOT NULL,
                    outputs TEXT, checkpoint TEXT, error TEXT, pid INTEGER, pid_start TEXT, updated_at REAL,
                    PRIMARY KEY(path, stage)
                ) WITHOUT ROWID;
                """)
            try database.query("INSERT INTO meta(key, value) VALUES ('format', ?), ('schema', ?), ('created_at', ?)",
                               [.text(formatMarker), .text(schemaVersion), .text(UTCTimestamp.now())])
        }
    }

    /// Brings a state of schema 1 to schema 2 in place, in one transaction: nothing is lost, and a
    /// pipeline that reads schema 1 only refuses the file from then on (it names the schema). Then
    /// adds what the failure history needs, if missing (`addHistory`).
    private static func migrate(_ database: SQLiteConnection) throws {
        try database.transaction {
            if try database.query("SELECT value FROM meta WHERE key = 'schema'").first?.first?.text == "1" {
                try database.execute(schema2Items + schema2Index)
                try database.query("UPDATE meta SET value = ? WHERE key = 'schema'", [.text(schemaVersion)])
            }
            try addHistory(database)
        }
    }

    /// Adds the columns a schedule's claim orders and filters by (`ScheduleClass`), and the index of
    /// the default order, to a state made without them: additive (a version that does not know them
    /// reads and writes the file as before, new items get class 0), so the schema stays 2.
    private static func addScheduleColumns(_ database: SQLiteConnection) throws {
        try database.transaction {
            let columns = try database.query("PRAGMA table_info(items)").compactMap { $0[1].text }
            if !columns.contains("schedule_rank") {
                try database.execute("""
                    ALTER TABLE items ADD COLUMN schedule_rank INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE items ADD COLUMN window_class INTEGER NOT NULL DEFAULT 0;
                    """)
            }
            try database.execute(claimIndex(.listed))
        }
    }

    /// The index a claim in `order` reads, by status and window class, in claim order.
    static func claimIndex(_ order: ScheduleOrder) -> String {
        let key = order.sqlTerm.isEmpty ? "" : order.sqlTerm + ", "
        let name = "items_claim_" + order.rawValue.replacingOccurrences(of: "-", with: "_")
        return "CREATE INDEX IF NOT EXISTS \(name) ON items(status, window_class, schedule_rank, failures, \(key)listed_order);"
    }

    /// What the failure analysis and the run history keep (issue 15): three columns on items (the
    /// last failure's category, the runs that tried the item, the last of them), each item's last
    /// failures, and the runs. Additive, with no schema number of its own: a pipeline of schema 2
    /// that knows none of it still opens the state and writes it (an item it writes keeps the
    /// columns' defaults; the tables it does not read).
    static let historyItemColumns = ["last_category TEXT", "tried_runs INTEGER NOT NULL DEFAULT 0", "last_tried_run INTEGER"]
    static let historyTables = """
        CREATE TABLE IF NOT EXISTS failures(
            path TEXT NOT NULL, seq INTEGER NOT NULL, run INTEGER, stage TEXT NOT NULL, category TEXT NOT NULL, error TEXT NOT NULL,
            attempt INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY(path, seq)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS runs(
            number INTEGER PRIMARY KEY, runner TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, exit_code INTEGER,
            completed INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
            left_items INTEGER NOT NULL DEFAULT 0, bytes_completed INTEGER NOT NULL DEFAULT 0, failures_by_category TEXT,
            stop_cause TEXT, items_left INTEGER, bytes_left INTEGER
        );
        """

    /// Adds the history's columns and tables where missing (a state made before them).
    private static func addHistory(_ database: SQLiteConnection) throws {
        let present = Set(try database.query("PRAGMA table_info(items)").compactMap { $0[1].text })
        for column in historyItemColumns where !present.contains(String(column.prefix { $0 != " " })) {
            try database.execute("ALTER TABLE items ADD COLUMN \(column);")
        }
        try database.execute(historyTables)
    }

    /// A state made before the history, opened read-only, reads as one without failures or runs:
    /// the missing columns and tables are stood in for by temporary ones (the temp schema is
    /// searched first), and the file is not written.
    private static func standInForHistory(_ database: SQLiteConnection) throws {
        let present = Set(try database.query("PRAGMA main.table_info(items)").compactMap { $0[1].text })
        guard !present.contains("last_category") else { return }
        try database.execute("""
            CREATE TEMP VIEW items AS SELECT *, NULL AS last_category, 0 AS tried_runs, NULL AS last_tried_run FROM main.items;
            \(historyTables.replacingOccurrences(of: "CREATE TABLE IF NOT EXISTS ", with: "CREATE TEMP TABLE "))
            """)
    }

    /// Refuses anything that is not an intact pipeline state, without writing to it.
    private static func checkIsOurs(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PipelineError(.io, "cannot read state file '\(path)'")
        }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        let refuse = { (why: String, hint: String) in
            PipelineError(.badData, "state file '\(path)' \(why); it was left untouched", hint: hint)
        }
        if header.isEmpty {
            throw refuse("is empty, so it is not a pipeline state", "delete it to start afresh, or restore the state from your backup or CI artifact")
        }
        if header.first == UInt8(ascii: "{") {
            throw refuse("is JSON, not a pipeline state", "if it is the old script's upload_state.json, bring it in with `pipeline state import \(path) --state NEW.state`")
        }
        guard header == Data("SQLite format 3\0".utf8) else {
            throw refuse("is not a pipeline state (not a SQLite database)", "point --state at the right file, or restore it from a backup or CI artifact")
        }
        let problem: String?
        do {
            let database = try SQLiteConnection(path: path, readOnly: true)
            defer { database.close() }
            let check = try database.query("PRAGMA quick_check").first?.first?.text
            if check != "ok" {
                problem = "is damaged (SQLite integrity check: \(check ?? "no answer"))"
            } else if try database.query("SELECT value FROM meta WHERE key = 'format'").first?.first?.text != formatMarker {
                problem = "is a SQLite database but not a pipeline state"
            } else if let schema = try database.query("SELECT value FROM meta WHERE key = 'schema'").first?.first?.text, !readableSchemas.contains(schema) {
                // Written by another version of pipeline: its tables may mean other things.
                problem = "has state schema \(schema), and this pipeline reads schema \(readableSchemas.sorted().joined(separator: " and ")) only (made by a newer version of pipeline?)"
            } else {
                problem = nil
            }
        } catch {
            problem = "is damaged or not a pipeline state (\(error))"
        }
        if let problem {
            throw refuse(problem, "restore it from your backup or CI artifact; `pipeline state export` of a good copy gives a JSON backup")
        }
    }

    /// Runs `body` on the open database after forgetting the recent items (it changes items on its own).
    private func withDatabaseForgettingRecentItems<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try withDatabase { database in
            shared.recent.withLock { $0.removeAll() }
            return try body(database)
        }
    }

    private func withDatabase<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try shared.connection.withLock { database in
            guard let database else { throw PipelineError(.internalError, "state file '\(path)' is already closed") }
            do {
                return try body(database)
            } catch let failure as SQLiteConnection.Failure {
                throw PipelineError(.io, "state file '\(path)': \(failure)", hint: "check free disk space and permissions")
            }
        }
    }

    // MARK: Transitions

    /// Merged with the commits arriving meanwhile (`GroupCommit`); the leader commits inline,
    /// with no thread hop: the file answers at once.
    public func commit(_ transitions: [StateTransition]) async throws {
        try await groupCommit.commit(transitions, perform: { try $0() }) { [self] in try commitSynchronously($0) }
    }

    /// Fenced like every shared driver's commit (`LeaseTable.mayWrite`): if this runner may not
    /// write one of the items, nothing is committed and `LeaseLost` names them.
    public func commitSynchronously(_ transitions: [StateTransition]) throws {
        let now = self.now
        let held = tokens.withLock { $0 }
        let run = self.run.withLock { $0 }
        try withDatabase { database in
            let lost = shared.leases.withLock { leases in
                Set(transitions.map(\.path)).filter { !leases.mayWrite($0, by: runner, mine: held[$0], now: now) }
            }
            if !lost.isEmpty { throw LeaseLost(paths: lost.sorted()) }
            let committed = try database.transaction {
                // Each item is read once per transaction, changed by the rules, and written once.
                var ledgers: [ItemLedger] = []
                var positions: [String: Int] = [:]
                for transition in transitions {
                    let path = transition.path
                    let position: Int
                    if let known = positions[path] {
                        position = known
                    } else {
                        position = ledgers.count
                        positions[path] = position
                        ledgers.append(try shared.recent.withLock { $0[path] } ?? Self.ledger(path, in: database, allStages: true))
                    }
                    try Self.loadStages(ledgers[position].stagesToLoad(for: transition), into: &ledgers[position], in: database)
                    try ledgers[position].apply(transition, at: now, run: run)
                }
                for ledger in ledgers {
                    try Self.write(ledger, in: database) { try Self.lastListedOrder(in: database) + 1 }
                }
                return ledgers
            }
            shared.recent.withLock { recent in
                if recent.count > Self.recentLimit { recent.removeAll(keepingCapacity: true) }
                for ledger in committed {
                    // An item that is finished with (or gone) is not committed again soon.
                    switch ledger.item?.status {
                    case .pending?, .inProgress?: recent[ledger.path] = ledger.settled()
                    default: recent[ledger.path] = nil
                    }
                }
            }
        }
    }

    /// Records a listing under the latest generation.
    public func recordListing(_ items: [SourceItem]) throws -> ListingChanges {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction { try record(items, generation: try Self.listing(in: database).generation, in: database) }
        }
    }

    /// Records `items` as listed in `generation`: the ledger decides each. The generation and the
    /// source's `extra` are stored beside for items that await work (only those are claimed), and
    /// only where they differ: a rerun over a finished library reads each item and writes nothing.
    private func record(_ items: [SourceItem], generation: Int64, in database: SQLiteConnection) throws -> ListingChanges {
        let now = self.now
        var changes = ListingChanges()
        var nextOrder = try Self.lastListedOrder(in: database)
        for item in items {
            let extra = SQLiteValue(item.extra.isEmpty ? nil : JSONValue.object(item.extra).jsonText())
            let markListed = { (stored: [SQLiteValue]?, status: ItemStatus) in
                guard ItemLedger.awaitsWork(status), let stored, stored[0].integer != generation || stored[1] != extra else { return }
                try database.query("UPDATE items SET listed_generation = ?, extra = ? WHERE path = ?", [.integer(generation), extra, .text(item.path)])
            }
            // A glance first: an item listed as it is stored needs no rule run on it (and a new one no second read).
            let glance = try database.query(Self.glanceAtListedItem, [.text(item.path)]).first
            if let glance, let status = glance[0].text.flatMap(ItemStatus.init(rawValue:)),
               ItemLedger.listingChangesNothing(storedSize: glance[1].integer, storedModified: glance[2].text, source: item) {
                try markListed(Array(glance[3...4]), status)
                continue
            }
            let row = glance == nil ? nil : try database.query(Self.selectListedItem, [.text(item.path)]).first
            var ledger = ItemLedger(path: item.path, item: row.map(Self.itemRecord), allStagesKnown: row == nil)
            switch ledger.listed(item, at: now) {
            case .added: changes.added += 1
            case .changed: changes.changed.append(item.path)
            case .kept: break
            }
            try Self.write(ledger, in: database, listed: (generation, extra)) {
                nextOrder += 1
                return nextOrder
            }
            if let row, let status = ledger.item?.status { try markListed(Array(row[Self.itemColumnCount...(Self.itemColumnCount + 1)]), status) }
        }
        return changes
    }

    // MARK: Storing what the rules decide

    /// The item's ledger with its stored record, and its stage records when `allStages` (else they
    /// are loaded as events need them).
    private static func ledger(_ path: String, in database: SQLiteConnection, allStages: Bool = false) throws -> ItemLedger {
        let record = try database.query(selectItem, [.text(path)]).first.map(itemRecord)
        guard let record, allStages else { return ItemLedger(path: path, item: record, allStagesKnown: record == nil) }
        return ItemLedger(path: path, item: record, stages: try stageRecords(for: path, in: database))
    }

    private static func loadStages(_ need: ItemLedger.StageNeed, into ledger: inout ItemLedger, in database: SQLiteConnection) throws {
        switch need {
        case .none: return
        case .stage(let stage):
            let rows = try database.query(selectStage, [.text(ledger.path), .text(stage)])
            ledger.learn(stageRecords(rows), all: false)
        case .all:
            ledger.learn(try stageRecords(for: ledger.path, in: database), all: true)
        }
    }

    private static func lastListedOrder(in database: SQLiteConnection) throws -> Int64 {
        try database.query("SELECT COALESCE(MAX(listed_order), 0) FROM items").first?.first?.integer ?? 0
    }

    /// Writes what the rules changed; a new item takes the listed order `nextListedOrder` gives.
    /// A new item is stored as of the listing `listed` (generation, extra), else as of none (0).
    private static func write(_ ledger: ItemLedger, in database: SQLiteConnection, listed: (generation: Int64, extra: SQLiteValue)? = nil,
                              nextListedOrder: () throws -> Int64) throws {
        let path = SQLiteValue.text(ledger.path)
        for write in ledger.writes {
            switch write {
            case .deleteAllStages:
                try database.query("DELETE FROM stages WHERE path = ?", [path])
            case .deleteStage(let stage):
                try database.query("DELETE FROM stages WHERE path = ? AND stage = ?", [path, .text(stage)])
            case .putStage(let record):
                try database.query("""
                    INSERT INTO stages(path, stage, status, attempt, outputs, checkpoint, error, pid, pid_start, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path, stage) DO UPDATE SET status = excluded.status,
                        attempt = excluded.attempt, outputs = excluded.outputs, checkpoint = excluded.checkpoint, error = excluded.error,
                        pid = excluded.pid, pid_start = excluded.pid_start, updated_at = excluded.updated_at
                    """, [path, .text(record.stage), .text(record.status.rawValue), .integer(Int64(record.attempt)),
                          SQLiteValue(record.storedOutputs), SQLiteValue(record.storedCheckpoint), SQLiteValue(record.error),
                          SQLiteValue(record.processID.map(Int64.init)), SQLiteValue(record.processStart), SQLiteValue(real: record.updatedAt)])
            case .deleteItem:
                try database.query("DELETE FROM items WHERE path = ?", [path])
            case .updateItem(let record):
                try database.query("""
                    UPDATE items SET size = ?, modified = ?, status = ?, stage = ?, failures = ?, last_error = ?, first_failed = ?,
                        last_failed = ?, skip_reason = ?, updated_at = ?, completed_at = ?, last_category = ?, tried_runs = ?,
                        last_tried_run = ? WHERE path = ?
                    """, fields(record) + [path])
            case .recordFailure(let evidence):
                try database.query("""
                    INSERT INTO failures(path, seq, run, stage, category, error, attempt, at)
                    VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM failures WHERE path = ?), ?, ?, ?, ?, ?, ?)
                    """, [path, path, SQLiteValue(evidence.run), .text(evidence.stage), .text(evidence.category.rawValue), .text(evidence.error),
                          .integer(Int64(evidence.attempt)), .real(evidence.at)])
                try database.query("DELETE FROM failures WHERE path = ? AND seq <= (SELECT MAX(seq) FROM failures WHERE path = ?) - ?",
                                   [path, path, .integer(Int64(FailureEvidence.limit))])
            case .withdrawFailures(let run):
                try database.query("DELETE FROM failures WHERE path = ? AND run = ?", [path, .integer(run)])
            case .deleteFailures:
                try database.query("DELETE FROM failures WHERE path = ?", [path])
            case .insertItem(let record):
                try database.query("""
                    INSERT INTO items(path, listed_order, size, modified, status, stage, failures, last_error, first_failed, last_failed,
                        skip_reason, updated_at, completed_at, last_category, tried_runs, last_tried_run, listed_generation, extra)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [path, .integer(try nextListedOrder())] + fields(record) + [.integer(listed?.generation ?? 0), listed?.extra ?? .null])
            }
        }
    }

    /// An item's columns after its path, in the order of `itemColumns`.
    private static func fields(_ record: ItemRecord) -> [SQLiteValue] {
        [SQLiteValue(record.size), SQLiteValue(record.modified), .text(record.status.rawValue), SQLiteValue(record.stage),
         .integer(Int64(record.failures)), SQLiteValue(record.lastError), SQLiteValue(real: record.firstFailed),
         SQLiteValue(real: record.lastFailed), SQLiteValue(record.skipReason), SQLiteValue(real: record.updatedAt),
         SQLiteValue(real: record.completedAt), SQLiteValue(record.lastCategory?.rawValue), .integer(Int64(record.triedRuns)),
         SQLiteValue(record.lastTriedRun)]
    }

    // MARK: Reading

    static let itemColumns = "path, size, modified, status, stage, failures, last_error, first_failed, last_failed, skip_reason, "
        + "updated_at, completed_at, last_category, tried_runs, last_tried_run"
    /// How many `itemColumns` there are: the columns a query reads after them start here.
    static let itemColumnCount = 15

    private static func itemRecord(_ row: [SQLiteValue]) -> ItemRecord {
        var record = ItemRecord(path: row[0].text ?? "", size: row[1].integer, modified: row[2].text,
                                status: row[3].text.flatMap(ItemStatus.init(rawValue:)) ?? .pending)
        record.stage = row[4].text
        record.failures = Int(row[5].integer ?? 0)
        record.lastError = row[6].text
        record.firstFailed = row[7].real
        record.lastFailed = row[8].real
        record.skipReason = row[9].text
        record.updatedAt = row[10].real
        record.completedAt = row[11].real
        record.lastCategory = row[12].text.flatMap(FailureCategory.init(rawValue:))
        record.triedRuns = Int(row[13].integer ?? 0)
        record.lastTriedRun = row[14].integer
        return record
    }

    public func item(_ path: String) throws -> ItemRecord? {
        try withDatabase { database in try database.query(Self.selectItem, [.text(path)]).first.map(Self.itemRecord) }
    }

    public func allItems() throws -> [ItemRecord] {
        try withDatabase { database in
            try database.query("SELECT \(Self.itemColumns) FROM items ORDER BY listed_order").map(Self.itemRecord)
        }
    }

    public func stageRecords(for path: String) throws -> [String: StageRecord] {
        try withDatabase { database in try Self.stageRecords(for: path, in: database) }
    }

    private static let stageColumns = "stage, status, attempt, outputs, checkpoint, error, pid, pid_start, updated_at"
    // Built once: statements are cached by their text, which is hashed on every use.
    private static let selectItem = "SELECT \(itemColumns) FROM items WHERE path = ?"
    private static let selectListedItem = "SELECT \(itemColumns), listed_generation, extra FROM items WHERE path = ?"
    private static let glanceAtListedItem = "SELECT status, size, modified, listed_generation, extra FROM items WHERE path = ?"
    private static let selectStage = "SELECT \(stageColumns) FROM stages WHERE path = ? AND stage = ?"
    private static let selectStages = "SELECT \(stageColumns) FROM stages WHERE path = ?"

    private static func stageRecords(for path: String, in database: SQLiteConnection) throws -> [String: StageRecord] {
        stageRecords(try database.query(selectStages, [.text(path)]))
    }

    private static func stageRecords(_ rows: [[SQLiteValue]]) -> [String: StageRecord] {
        var records: [String: StageRecord] = [:]
        for row in rows {
            let stage = row[0].text ?? ""
            var record = StageRecord(stage: stage, status: row[1].text.flatMap(StageRecord.Status.init(rawValue:)) ?? .failed,
                                     attempt: Int(row[2].integer ?? 1))
            record.outputs = row[3].text.flatMap { try? JSONValue.parse($0).objectValue } ?? [:]
            record.checkpoint = row[4].text.flatMap { try? JSONValue.parse($0).objectValue }
            record.error = row[5].text
            record.processID = row[6].integer.map { Int32($0) }
            record.processStart = row[7].text
            record.updatedAt = row[8].real
            records[stage] = record
        }
        return records
    }

    public func summary(maxFailures: Int) throws -> StateSummary {
        try withDatabase { database in
            var summary = StateSummary()
            let rows = try database.query("""
                SELECT status, COUNT(*), COALESCE(SUM(size), 0), SUM(CASE WHEN failures >= ? THEN 1 ELSE 0 END)
                FROM items GROUP BY status
                """, [.integer(Int64(maxFailures))])
            for row in rows {
                let count = Int(row[1].integer ?? 0)
                let bytes = row[2].integer ?? 0
                summary.total += count
                summary.totalBytes += bytes
                switch row[0].text.flatMap(ItemStatus.init(rawValue:)) {
                case .pending: summary.pending = count
                case .inProgress: summary.inProgress = count
                case .completed:
                    summary.completed = count
                    summary.completedBytes = bytes
                case .failed:
                    summary.failed = count
                    summary.givenUp = Int(row[3].integer ?? 0)
                case .skipped: summary.skipped = count
                case nil: break
                }
            }
            return summary
        }
    }

    // MARK: Maintenance

    public func retry(paths: [String]?, includeSkipped: Bool) throws -> Int {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction {
                let candidates: [String]
                if let paths {
                    candidates = paths
                } else {
                    // Only where the rules may act: every item with a status retry changes.
                    let statuses = ItemLedger.retryableStatuses(includeSkipped: includeSkipped).map { "'\($0.rawValue)'" }.joined(separator: ", ")
                    candidates = try database.query("SELECT path FROM items WHERE status IN (\(statuses))").compactMap { $0.first?.text }
                }
                var changed = 0
                for path in candidates {
                    var ledger = try Self.ledger(path, in: database)
                    guard ledger.retry(includeSkipped: includeSkipped) else { continue }
                    try Self.write(ledger, in: database) { try Self.lastListedOrder(in: database) + 1 }
                    changed += 1
                }
                return changed
            }
        }
    }

    public func forget(path: String) throws -> Bool {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction {
                var ledger = try Self.ledger(path, in: database)
                guard ledger.forget() else { return false }
                try Self.write(ledger, in: database) { try Self.lastListedOrder(in: database) + 1 }
                return true
            }
        }
    }

    public func importItems(_ records: [ItemRecord]) throws {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction {
                var nextOrder = try Self.lastListedOrder(in: database)
                for record in records {
                    var ledger = try Self.ledger(record.path, in: database)
                    ledger.imported(record)
                    try Self.write(ledger, in: database) {
                        nextOrder += 1
                        return nextOrder
                    }
                }
            }
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try withDatabase { database in
            try database.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?.first?.text
        }
    }

    public func setMetadata(_ changes: [String: String?]) throws {
        try withDatabase { database in
            try database.transaction {
                for (key, value) in changes {
                    if let value {
                        _ = try database.query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [.text(key), .text(value)])
                    } else {
                        _ = try database.query("DELETE FROM meta WHERE key = ?", [.text(key)])
                    }
                }
            }
        }
    }

    /// Counters live in `meta` as `counter:NAME:PERIOD` (one runner uses a state file at a time).
    public func spend(_ name: String, period: String, amount: Int, limit: Int) throws -> Bool {
        guard amount >= 0, limit >= 0 else {
            throw PipelineError(.internalError, "spending \(amount) of a limit of \(limit) (neither may be negative)")
        }
        return try withDatabase { database in
            try database.transaction {
                let key = SQLiteValue.text(Self.counterKey(name: name, period: period))
                let spent = try database.query("SELECT value FROM meta WHERE key = ?", [key]).first?.first?.text.flatMap { Int($0) } ?? 0
                guard spent <= limit - amount else { return false }
                _ = try database.query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", [key, .text(String(spent + amount))])
                return true
            }
        }
    }

    /// Where `spend` keeps a counter in `meta`.
    private static func counterKey(name: String, period: String) -> String { counterPrefix + name + ":" + period }
    private static let counterPrefix = "counter:"

    // MARK: Moving a state between stores

    /// One connection, under its lock: the page is read whole before anyone else writes.
    public func itemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage {
        try ItemPage.check(limit)
        return try withDatabase { database in
            let rows = try database.query("SELECT \(Self.itemColumns), listed_order FROM items WHERE listed_order > ? ORDER BY listed_order LIMIT ?",
                                          [.integer(cursor?.position ?? Int64.min), .integer(Int64(limit))])
            let items = try rows.map { row in
                let record = Self.itemRecord(row)
                return (StoredItem(record: record, stages: try Self.stageRecords(for: record.path, in: database),
                                   failures: try Self.failures(of: record.path, in: database)), row[Self.itemColumnCount].integer ?? 0)
            }
            return ItemPage.of(items, limit: limit)
        }
    }

    public func storeItems(_ items: [StoredItem]) throws {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction {
                var nextOrder = try Self.lastListedOrder(in: database)
                for stored in items {
                    var ledger = try Self.ledger(stored.record.path, in: database)
                    ledger.restored(stored.record, stages: stored.stages, failures: stored.failures)
                    try Self.write(ledger, in: database) {
                        nextOrder += 1
                        return nextOrder
                    }
                }
            }
        }
    }

    public func metadataEntries() throws -> [String: String] {
        try withDatabase { database in
            var entries: [String: String] = [:]
            for row in try database.query("SELECT key, value FROM meta WHERE substr(key, 1, ?) != ? AND substr(key, 1, ?) != ?",
                                          [.integer(Int64(Self.counterPrefix.utf8.count)), .text(Self.counterPrefix),
                                           .integer(Int64(Self.listingPrefix.utf8.count)), .text(Self.listingPrefix)]) {
                if let key = row[0].text { entries[key] = row[1].text ?? "" }
            }
            return entries
        }
    }

    /// Read back from their `meta` keys (`counter:NAME:PERIOD`; a period holds no colon).
    public func counters() throws -> [StateCounter] {
        try withDatabase { database in
            try database.query("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ? ORDER BY key",
                               [.integer(Int64(Self.counterPrefix.utf8.count)), .text(Self.counterPrefix)]).compactMap { row in
                guard let key = row[0].text?.dropFirst(Self.counterPrefix.count), let colon = key.lastIndex(of: ":"),
                      let value = row[1].text.flatMap({ Int($0) }) else { return nil }
                return StateCounter(name: String(key[..<colon]), period: String(key[key.index(after: colon)...]), value: value)
            }
        }
    }

    public func setCounters(_ counters: [StateCounter]) throws {
        try withDatabase { database in
            try database.transaction {
                for counter in counters {
                    _ = try database.query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                           [.text(Self.counterKey(name: counter.name, period: counter.period)), .text(String(counter.value))])
                }
            }
        }
    }

    public func removeEverything() throws {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction {
                try database.execute("DELETE FROM stages; DELETE FROM items; DELETE FROM failures; DELETE FROM runs;")
                for row in try database.query("SELECT key FROM meta") {
                    guard let key = row[0].text, !StoreMetadataKeys.own.contains(key) else { continue }
                    _ = try database.query("DELETE FROM meta WHERE key = ?", [.text(key)])
                }
            }
            shared.leases.withLock { $0.removeAll() }
        }
        tokens.withLock { $0.removeAll() }
    }

    /// Writes a consistent copy of the whole state to `path` (which must not exist).
    public func saveCopy(to path: String) throws {
        try withDatabase { database in _ = try database.query("VACUUM INTO ?", [.text(path)]) }
    }

    // MARK: Run history and failures

    /// `max + 1` in a write transaction: one process writes a state file (`StateLock`), and the
    /// runners it joins share this connection.
    public func beginRun(runner: String, startedAt: Double) throws -> Int64 {
        let number = try withDatabase { database in
            try database.transaction {
                let number = (try database.query("SELECT COALESCE(MAX(number), 0) FROM runs").first?.first?.integer ?? 0) + 1
                try database.query("INSERT INTO runs(number, runner, started_at) VALUES (?, ?, ?)", [.integer(number), .text(runner), .real(startedAt)])
                return number
            }
        }
        run.withLock { $0 = number }
        return number
    }

    public func finishRun(_ record: RunRecord) throws {
        try withDatabase { database in
            try database.transaction { try Self.putRun(record, replacing: false, in: database) }
        }
    }

    public func storeRuns(_ records: [RunRecord]) throws {
        try withDatabase { database in
            try database.transaction { for record in records { try Self.putRun(record, replacing: true, in: database) } }
        }
    }

    /// Writes a run's row: its end onto the row `beginRun` made, or (`replacing`) the whole row.
    private static func putRun(_ record: RunRecord, replacing: Bool, in database: SQLiteConnection) throws {
        let values: [SQLiteValue] = [
            SQLiteValue(real: record.endedAt), SQLiteValue(record.exitCode.map(Int64.init)), .integer(Int64(record.completed)),
            .integer(Int64(record.failed)), .integer(Int64(record.skipped)), .integer(Int64(record.left)), .integer(record.bytesCompleted),
            .text(record.storedFailuresByCategory), SQLiteValue(record.stopCause?.rawValue), SQLiteValue(record.itemsLeft.map(Int64.init)),
            SQLiteValue(record.bytesLeft),
        ]
        if replacing {
            try database.query("""
                INSERT OR REPLACE INTO runs(number, runner, started_at, ended_at, exit_code, completed, failed, skipped, left_items,
                    bytes_completed, failures_by_category, stop_cause, items_left, bytes_left) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.integer(record.number), .text(record.runner), .real(record.startedAt)] + values)
        } else {
            try database.query("""
                UPDATE runs SET ended_at = ?, exit_code = ?, completed = ?, failed = ?, skipped = ?, left_items = ?, bytes_completed = ?,
                    failures_by_category = ?, stop_cause = ?, items_left = ?, bytes_left = ? WHERE number = ?
                """, values + [.integer(record.number)])
        }
    }

    public func runs(limit: Int) throws -> [RunRecord] {
        try withDatabase { database in
            try database.query("""
                SELECT number, runner, started_at, ended_at, exit_code, completed, failed, skipped, left_items, bytes_completed,
                    failures_by_category, stop_cause, items_left, bytes_left FROM runs ORDER BY number DESC LIMIT ?
                """, [.integer(Int64(max(0, limit)))]).reversed().map { row in
                RunRecord(number: row[0].integer ?? 0, runner: row[1].text ?? "", startedAt: row[2].real ?? 0, endedAt: row[3].real,
                          exitCode: row[4].integer.flatMap { Int32(exactly: $0) }, completed: Int(row[5].integer ?? 0), failed: Int(row[6].integer ?? 0),
                          skipped: Int(row[7].integer ?? 0), left: Int(row[8].integer ?? 0), bytesCompleted: row[9].integer ?? 0,
                          failuresByCategory: RunRecord.failuresByCategory(stored: row[10].text),
                          stopCause: row[11].text.flatMap(RunOutcome.StopCause.init(rawValue:)),
                          itemsLeft: row[12].integer.map { Int($0) }, bytesLeft: row[13].integer)
            }
        }
    }

    /// From `items_by_status`: only failed items are read.
    public func failedItemsByCategory() throws -> [FailureCategory: Int] {
        try withDatabase { database in
            var counts: [FailureCategory: Int] = [:]
            for row in try database.query("SELECT last_category, COUNT(*) FROM items WHERE status = 'failed' GROUP BY last_category") {
                counts[row[0].text.flatMap(FailureCategory.init(rawValue:)) ?? .other, default: 0] += Int(row[1].integer ?? 0)
            }
            return counts
        }
    }

    public func failedItemPage(after cursor: ItemPage.Cursor?, limit: Int) throws -> ItemPage {
        try ItemPage.check(limit)
        return try withDatabase { database in
            let rows = try database.query("""
                SELECT \(Self.itemColumns), listed_order FROM items WHERE status = 'failed' AND listed_order > ? ORDER BY listed_order LIMIT ?
                """, [.integer(cursor?.position ?? Int64.min), .integer(Int64(limit))])
            let items = try rows.map { row in
                let record = Self.itemRecord(row)
                return (StoredItem(record: record, failures: try Self.failures(of: record.path, in: database)), row[Self.itemColumnCount].integer ?? 0)
            }
            return ItemPage.of(items, limit: limit)
        }
    }

    /// An item's failure history, oldest first.
    private static func failures(of path: String, in database: SQLiteConnection) throws -> [FailureEvidence] {
        try database.query("SELECT run, stage, category, error, attempt, at FROM failures WHERE path = ? ORDER BY seq", [.text(path)]).map { row in
            FailureEvidence(path: path, run: row[0].integer, stage: row[1].text ?? "", category: row[2].text.flatMap(FailureCategory.init(rawValue:)) ?? .other,
                            error: row[3].text ?? "", attempt: Int(row[4].integer ?? 1), at: row[5].real ?? 0)
        }
    }

    public func liveLeaseCount() throws -> Int {
        let now = self.now
        return try withDatabase { _ in shared.leases.withLock { $0.liveCount(now: now) } }
    }

    // MARK: Leases on items

    /// Reads what needs work in pages through an index per order (`claimIndex`): items in progress
    /// first, then for each window class that may start now the pending and the failed items in
    /// claim order, merged by `ClaimPlan.precedes`, skipping leased items.
    public func claimItems(limit: Int, maxFailures: Int, leaseFor duration: TimeSpan, plan: ClaimPlan) throws -> [ClaimedItem] {
        try MemoryStateStore.checkLease(duration)
        guard (1...100_000).contains(limit), maxFailures >= 1 else {
            throw PipelineError(.internalError, "a claim of \(limit) items with max_failures \(maxFailures) (1…100000 items, max_failures at least 1)")
        }
        let now = self.now
        let claimed = try withDatabase { database -> [ClaimedItem] in
            let generation = try Self.listing(in: database).generation
            let leases = shared.leases.withLock { $0 }
            let free = { (path: String) in leases.isFree(path, now: now) }
            var picked = try Self.firstFree(limit, where: "status = 'in_progress'", [], orderBy: "listed_order", generation: generation, in: database, free)
            if picked.count < limit {
                let left = limit - picked.count
                if plan.order != .listed, shared.claimIndexes.withLock({ $0.insert(plan.order).inserted }) {
                    try database.execute(Self.claimIndex(plan.order))
                }
                var waiting: [Waiting] = []
                for read in Self.waitingReads(plan, maxFailures: maxFailures) {
                    waiting += try Self.firstFree(left, where: read.condition, read.values, orderBy: Self.claimOrder(plan), generation: generation,
                                                  in: database, free)
                }
                picked += waiting.sorted { plan.precedes($0.candidate, $1.candidate) }.prefix(left)
            }
            return shared.leases.withLock { leases in
                picked.map { ClaimedItem(item: $0.item, record: $0.record,
                                         lease: leases.grant($0.record.path, to: runner, until: now + duration.seconds, now: now)) }
            }
        }
        tokens.withLock { tokens in for claim in claimed { tokens[claim.lease.path] = claim.lease.token } }
        return claimed
    }

    /// The reads of a claim's waiting items: per window class that may start now, the pending and
    /// the failed ones (each one range of the order's `claimIndex`).
    static func waitingReads(_ plan: ClaimPlan, maxFailures: Int) -> [(condition: String, values: [SQLiteValue])] {
        let size = plan.sizeLimit.map { " AND COALESCE(size, 0) <= \($0)" } ?? ""
        return plan.openClasses.flatMap { window -> [(condition: String, values: [SQLiteValue])] in
            [("status = 'pending' AND window_class = \(window)\(size)", []),
             ("status = 'failed' AND window_class = \(window) AND failures < ?\(size)", [.integer(Int64(maxFailures))])]
        }
    }

    /// The order a claim reads waiting items in (the order of its `claimIndex`).
    static func claimOrder(_ plan: ClaimPlan) -> String {
        "schedule_rank, failures, \(plan.order.sqlTerm.isEmpty ? "" : plan.order.sqlTerm + ", ")listed_order"
    }

    /// What `firstFree` reads: a page of the items matching `condition` in `orderBy`.
    static func claimSelect(where condition: String, orderBy: String) -> String {
        """
        SELECT \(itemColumns), extra, listed_order, schedule_rank, window_class FROM items WHERE \(condition) AND listed_generation = ?
        ORDER BY \(orderBy) LIMIT ? OFFSET ?
        """
    }

    /// An item a claim may take, with what it is ordered by.
    private typealias Waiting = (item: SourceItem, record: ItemRecord, candidate: ClaimPlan.Candidate)

    /// The first `count` items of `generation` that match `condition` and that `free` lets go, in `orderBy`.
    private static func firstFree(_ count: Int, where condition: String, _ values: [SQLiteValue], orderBy: String, generation: Int64,
                                  in database: SQLiteConnection, _ free: (String) -> Bool) throws -> [Waiting] {
        var found: [Waiting] = []
        var offset: Int64 = 0
        let page = count + 64
        while true {
            // Skipped rows are leased items (few: this runner's items in flight), so the offset stays small.
            let rows = try database.query(claimSelect(where: condition, orderBy: orderBy),
                                          values + [.integer(generation), .integer(Int64(page)), .integer(offset)])
            for row in rows {
                let record = itemRecord(row)
                guard free(record.path) else { continue }
                let extra = row[itemColumnCount].text.flatMap { try? JSONValue.parse($0).objectValue } ?? [:]
                let schedule = ScheduleClass(rank: Int(row[itemColumnCount + 2].integer ?? 0), window: Int(row[itemColumnCount + 3].integer ?? 0))
                let candidate = ClaimPlan.Candidate(inProgress: record.status == .inProgress, schedule: schedule, failures: record.failures,
                                                    size: record.size, modified: record.modified, listedOrder: row[itemColumnCount + 1].integer ?? 0)
                found.append((SourceItem(path: record.path, size: record.size ?? 0, modified: record.modified, extra: extra), record, candidate))
                if found.count == count { return found }
            }
            guard rows.count == page else { return found }
            offset += Int64(page)
        }
    }

    public func setScheduleClasses(_ classes: [String: ScheduleClass]) throws {
        guard !classes.isEmpty else { return }
        try withDatabase { database in
            try database.transaction {
                for (path, schedule) in classes {
                    try database.query("UPDATE items SET schedule_rank = ?, window_class = ? WHERE path = ? AND (schedule_rank <> ? OR window_class <> ?)",
                                       [.integer(Int64(schedule.rank)), .integer(Int64(schedule.window)), .text(path),
                                        .integer(Int64(schedule.rank)), .integer(Int64(schedule.window))])
                }
            }
        }
    }

    public func waitingByWindow(maxFailures: Int) throws -> [Int: Int] {
        try withDatabase { database in
            let generation = try Self.listing(in: database).generation
            let rows = try database.query("""
                SELECT window_class, count(*) FROM items WHERE window_class > 0 AND listed_generation = ?
                    AND (status = 'pending' OR (status = 'failed' AND failures < ?)) GROUP BY window_class
                """, [.integer(generation), .integer(Int64(maxFailures))])
            return Dictionary(rows.compactMap { row in row[0].integer.map { (Int($0), Int(row[1].integer ?? 0)) } }, uniquingKeysWith: +)
        }
    }

    public func renewLeases(_ paths: [String], for duration: TimeSpan) throws -> [ItemLease] {
        try MemoryStateStore.checkLease(duration)
        let now = self.now
        let held = tokens.withLock { $0 }
        let renewed = try withDatabase { _ in
            shared.leases.withLock { leases in
                paths.compactMap { path in held[path].flatMap { leases.renew(path, by: runner, token: $0, until: now + duration.seconds, now: now) } }
            }
        }
        let kept = Set(renewed.map(\.path))
        tokens.withLock { tokens in for path in paths where !kept.contains(path) { tokens[path] = nil } }
        return renewed
    }

    public func releaseLeases(_ paths: [String]) throws {
        let held = tokens.withLock { tokens in paths.compactMap { path in tokens.removeValue(forKey: path).map { (path, $0) } } }
        guard !held.isEmpty else { return }
        shared.leases.withLock { leases in for (path, token) in held { leases.release(path, by: runner, token: token) } }
    }

    // MARK: Roles and the listing

    public func holdRole(_ role: String, for duration: TimeSpan) throws -> Bool {
        try MemoryStateStore.checkLease(duration)
        let now = self.now
        return try withDatabase { _ in shared.leases.withLock { $0.holdRole(role, for: runner, until: now + duration.seconds, now: now) } }
    }

    public func releaseRole(_ role: String) throws {
        try withDatabase { _ in shared.leases.withLock { $0.releaseRole(role, by: runner) } }
    }

    /// Where the listing's progress is kept in `meta` (not copied to other stores, removed with everything).
    private static let listingGenerationKey = "listing:generation", listingCompleteKey = "listing:complete"
    private static let listingPrefix = "listing:"

    private static func listing(in database: SQLiteConnection) throws -> ListingProgress {
        let value = { (key: String) in try database.query("SELECT value FROM meta WHERE key = ?", [.text(key)]).first?.first?.text }
        guard let text = try value(listingGenerationKey) else { return ListingProgress(generation: 0, complete: false) }
        guard let generation = Int64(text), generation >= 0 else {
            throw PipelineError(.badData, "the state's listing generation '\(text)' is not a number", hint: "restore the state from your backup or CI artifact")
        }
        return ListingProgress(generation: generation, complete: try value(listingCompleteKey) == "1")
    }

    public func listingProgress() throws -> ListingProgress {
        try withDatabase { try Self.listing(in: $0) }
    }

    public func beginListing() throws -> Int64 {
        try withDatabase { database in
            try database.transaction {
                let generation = try Self.listing(in: database).generation + 1
                try database.query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?), (?, '0')",
                                   [.text(Self.listingGenerationKey), .text(String(generation)), .text(Self.listingCompleteKey)])
                return generation
            }
        }
    }

    public func recordListing(_ items: [SourceItem], generation: Int64) throws -> ListingChanges {
        try withDatabaseForgettingRecentItems { database in
            try database.transaction {
                let latest = try Self.listing(in: database).generation
                guard generation >= 1, generation <= latest else {
                    throw PipelineError(.internalError, "listing generation \(generation) was never begun (the latest is \(latest))")
                }
                return try record(items, generation: generation, in: database)
            }
        }
    }

    public func finishListing(_ generation: Int64) throws {
        try withDatabase { database in
            try database.transaction {
                guard try Self.listing(in: database).generation == generation else { return }
                try database.query("INSERT OR REPLACE INTO meta(key, value) VALUES (?, '1')", [.text(Self.listingCompleteKey)])
            }
        }
    }

    // MARK: Bounded reads for the end of a run

    public func givenUpItems(maxFailures: Int, limit: Int) throws -> [ItemRecord] {
        try withDatabase { database in
            try database.query("SELECT \(Self.itemColumns) FROM items WHERE status = 'failed' AND failures >= ? ORDER BY listed_order LIMIT ?",
                               [.integer(Int64(maxFailures)), .integer(Int64(max(0, limit)))]).map(Self.itemRecord)
        }
    }

    /// Status by status (`unfinishedGroups`), each in listed order through `items_by_status`: a
    /// page reads only unfinished items, and a state with none left reads nothing.
    public func unfinishedSizes(maxFailures: Int, after cursor: SizePage.Cursor?, limit: Int) throws -> SizePage {
        let limit = max(1, limit)
        return try withDatabase { database in
            var sizes: [Int64] = []
            var group = cursor?.group ?? 0, after = cursor?.position ?? Int64.min
            while group < Self.unfinishedGroups.count {
                let status = Self.unfinishedGroups[group], wanted = limit - sizes.count
                let rows = try database.query("SELECT size, failures, listed_order FROM items WHERE status = ? AND listed_order > ? ORDER BY listed_order LIMIT ?",
                                              [.text(status.rawValue), .integer(after), .integer(Int64(wanted))])
                for row in rows where status != .failed || (row[1].integer ?? 0) < Int64(maxFailures) { sizes.append(row[0].integer ?? 0) }
                guard rows.count == wanted, let last = rows[rows.count - 1][2].integer else {
                    // This status is read to its end.
                    group += 1
                    after = Int64.min
                    continue
                }
                after = last
                if sizes.count == limit { return SizePage(sizes: sizes, next: SizePage.Cursor(group: group, position: last)) }
            }
            return SizePage(sizes: sizes, next: nil)
        }
    }

    /// The statuses of items a run would still work on (failed ones: below `max_failures`).
    private static let unfinishedGroups: [ItemStatus] = [.inProgress, .pending, .failed]

    public func close() throws {
        shared.connection.withLock { database in
            guard let open = database else { return }
            // Back to one self-contained file; if a reader holds it, the WAL is checkpointed at least.
            try? open.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            try? open.execute("PRAGMA journal_mode=DELETE")
            open.close()
            database = nil
        }
    }
}

extension SQLiteValue {
    init(real: Double?) { self = real.map { .real($0) } ?? .null }

    var real: Double? {
        switch self {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }
}
