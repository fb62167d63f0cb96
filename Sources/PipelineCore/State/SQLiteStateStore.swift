import Foundation
import Synchronization

/// The embedded state store: one SQLite file.
///
/// While open it runs in WAL mode with `synchronous=NORMAL`: a commit is an append to the log,
/// survives `kill -9` (a power cut may lose the last few commits), and readers such as
/// `pipeline status` work alongside a run. `close()` checkpoints and returns to a rollback
/// journal so the state is again one file that can travel as a CI artifact.
public final class SQLiteStateStore: StateStore {
    /// Written into `meta` so that a foreign SQLite file is never mistaken for ours.
    static let formatMarker = "pipeline-state"
    static let schemaVersion = "1"

    public let path: String
    private let connection: Mutex<SQLiteConnection?>
    private let groupCommit = Mutex(GroupCommitQueue())

    /// Transitions waiting for the committer, and whether it is draining them.
    private struct GroupCommitQueue {
        var waiting: [(transitions: [StateTransition], continuation: CheckedContinuation<Void, any Error>)] = []
        var draining = false
    }

    /// Opens (or, when `create` and absent, creates) the state at `path`.
    ///
    /// A file that is not a pipeline state, or is damaged, is refused and left untouched.
    public init(path: String, create: Bool = true, readOnly: Bool = false) throws {
        self.path = path
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
                if !exists { try Self.createSchema(database) }
            }
        } catch let failure as SQLiteConnection.Failure {
            throw PipelineError(.io, "cannot open state file '\(path)': \(failure)")
        }
        self.connection = Mutex(database)
    }

    private static func createSchema(_ database: SQLiteConnection) throws {
        try database.transaction {
            try database.execute("""
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE items(
                    path TEXT PRIMARY KEY, listed_order INTEGER NOT NULL, size INTEGER, modified TEXT,
                    status TEXT NOT NULL, stage TEXT, failures INTEGER NOT NULL DEFAULT 0, last_error TEXT,
                    first_failed REAL, last_failed REAL, skip_reason TEXT, updated_at REAL, completed_at REAL
                ) WITHOUT ROWID;
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
            } else if let schema = try database.query("SELECT value FROM meta WHERE key = 'schema'").first?.first?.text, schema != schemaVersion {
                // Written by another version of pipeline: its tables may mean other things.
                problem = "has state schema \(schema), and this pipeline reads schema \(schemaVersion) only (made by another version of pipeline?)"
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

    private func withDatabase<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try connection.withLock { database in
            guard let database else { throw PipelineError(.internalError, "state file '\(path)' is already closed") }
            do {
                return try body(database)
            } catch let failure as SQLiteConnection.Failure {
                throw PipelineError(.io, "state file '\(path)': \(failure)", hint: "check free disk space and permissions")
            }
        }
    }

    // MARK: Transitions

    public func commit(_ transitions: [StateTransition]) async throws {
        // The first caller leads: it commits inline (no thread hop) and then commits whatever
        // queued up meanwhile in one transaction. Callers arriving during a commit wait in line.
        if groupCommit.withLock({ queue in queue.draining ? false : { queue.draining = true; return true }() }) {
            defer { drainGroupCommits() }
            try commitSynchronously(transitions)
            return
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let leads = groupCommit.withLock { queue -> Bool in
                if queue.draining {
                    queue.waiting.append((transitions, continuation))
                    return false
                }
                queue.draining = true
                return true
            }
            guard leads else { return }
            do {
                try commitSynchronously(transitions)
                continuation.resume()
            } catch {
                continuation.resume(throwing: error)
            }
            drainGroupCommits()
        }
    }

    /// Commits everything that queued up while the previous transaction ran, in one transaction,
    /// until nothing waits. If a batch fails, each caller's transitions are tried alone, so one
    /// bad one fails only its caller.
    private func drainGroupCommits() {
        while true {
            let batch = groupCommit.withLock { queue in
                defer { queue.waiting.removeAll(keepingCapacity: true) }
                if queue.waiting.isEmpty { queue.draining = false }
                return queue.waiting
            }
            if batch.isEmpty { return }
            do {
                try commitSynchronously(batch.flatMap(\.transitions))
                for entry in batch { entry.continuation.resume() }
            } catch {
                for entry in batch {
                    do {
                        try commitSynchronously(entry.transitions)
                        entry.continuation.resume()
                    } catch {
                        entry.continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    public func commitSynchronously(_ transitions: [StateTransition]) throws {
        let now = Date().timeIntervalSince1970
        try withDatabase { database in
            try database.transaction {
                for transition in transitions { try apply(transition, at: now, in: database) }
            }
        }
    }

    private func apply(_ transition: StateTransition, at now: Double, in database: SQLiteConnection) throws {
        switch transition {
        case .stageStarted(let path, let stage, let attempt):
            try database.query("""
                INSERT INTO stages(path, stage, status, attempt, updated_at) VALUES (?, ?, 'running', ?, ?)
                ON CONFLICT(path, stage) DO UPDATE SET status = 'running', attempt = excluded.attempt,
                    error = NULL, updated_at = excluded.updated_at
                """, [.text(path), .text(stage), .integer(Int64(attempt)), .real(now)])
            try database.query("UPDATE items SET status = 'in_progress', stage = ?, updated_at = ? WHERE path = ?",
                               [.text(stage), .real(now), .text(path)])
        case .stageProcess(let path, let stage, let processID, let processStart):
            try database.query("UPDATE stages SET pid = ?, pid_start = ? WHERE path = ? AND stage = ?",
                               [SQLiteValue(processID.map(Int64.init)), SQLiteValue(processStart), .text(path), .text(stage)])
        case .stageCheckpoint(let path, let stage, let values):
            try database.query("UPDATE stages SET checkpoint = ?, updated_at = ? WHERE path = ? AND stage = ?",
                               [.text(JSONValue.object(values).jsonText()), .real(now), .text(path), .text(stage)])
        case .stageDone(let path, let stage, let outputs):
            try database.query("""
                INSERT INTO stages(path, stage, status, attempt, outputs, updated_at) VALUES (?, ?, 'done', 1, ?, ?)
                ON CONFLICT(path, stage) DO UPDATE SET status = 'done', outputs = excluded.outputs, checkpoint = NULL,
                    error = NULL, pid = NULL, pid_start = NULL, updated_at = excluded.updated_at
                """, [.text(path), .text(stage), .text(JSONValue.object(outputs).jsonText()), .real(now)])
        case .stageAttemptFailed(let path, let stage, let attempt, let error):
            try database.query("""
                UPDATE stages SET status = 'failed', attempt = ?, error = ?, pid = NULL, pid_start = NULL, updated_at = ?
                WHERE path = ? AND stage = ?
                """, [.integer(Int64(attempt)), .text(error), .real(now), .text(path), .text(stage)])
        case .stagesReset(let path, let stages):
            for stage in stages {
                try database.query("DELETE FROM stages WHERE path = ? AND stage = ?", [.text(path), .text(stage)])
            }
        case .itemCompleted(let path, let stage):
            try database.query("""
                UPDATE items SET status = 'completed', stage = ?, last_error = NULL, skip_reason = NULL,
                    completed_at = ?, updated_at = ? WHERE path = ?
                """, [SQLiteValue(stage), .real(now), .real(now), .text(path)])
        case .itemFailed(let path, let stage, let error):
            try database.query("""
                UPDATE items SET status = 'failed', stage = ?, failures = failures + 1, last_error = ?,
                    first_failed = COALESCE(first_failed, ?), last_failed = ?, updated_at = ? WHERE path = ?
                """, [.text(stage), .text(error), .real(now), .real(now), .real(now), .text(path)])
        case .itemFailureForgiven(let path):
            try database.query("""
                UPDATE items SET status = 'in_progress', failures = MAX(0, failures - 1), updated_at = ? WHERE path = ? AND status = 'failed'
                """, [.real(now), .text(path)])
        case .itemSkipped(let path, let reason):
            try database.query("UPDATE items SET status = 'skipped', skip_reason = ?, updated_at = ? WHERE path = ?",
                               [.text(reason), .real(now), .text(path)])
            // The stage that decided it is no longer running.
            try database.query("UPDATE stages SET status = 'skipped', pid = NULL, pid_start = NULL, updated_at = ? WHERE path = ? AND status = 'running'",
                               [.real(now), .text(path)])
        }
    }

    public func recordListing(_ items: [SourceItem]) throws -> ListingChanges {
        let now = Date().timeIntervalSince1970
        return try withDatabase { database in
            try database.transaction {
                var changes = ListingChanges()
                var nextOrder = try database.query("SELECT COALESCE(MAX(listed_order), 0) FROM items").first?.first?.integer ?? 0
                for item in items {
                    let existing = try database.query("SELECT size, modified, status FROM items WHERE path = ?", [.text(item.path)]).first
                    guard let existing else {
                        nextOrder += 1
                        try database.query("INSERT INTO items(path, listed_order, size, modified, status, updated_at) VALUES (?, ?, ?, ?, 'pending', ?)",
                                           [.text(item.path), .integer(nextOrder), .integer(item.size), SQLiteValue(item.modified), .real(now)])
                        changes.added += 1
                        continue
                    }
                    let status = existing[2].text.flatMap(ItemStatus.init(rawValue:))
                    let sizeChanged = existing[0].integer.map { $0 != item.size } ?? false
                    let timeChanged = existing[1].text != nil && item.modified != nil && existing[1].text != item.modified
                    if status != .completed, status != .skipped, sizeChanged || timeChanged {
                        try database.query("DELETE FROM stages WHERE path = ?", [.text(item.path)])
                        try database.query("UPDATE items SET status = CASE WHEN status = 'failed' THEN 'failed' ELSE 'pending' END, stage = NULL WHERE path = ?", [.text(item.path)])
                        changes.changed.append(item.path)
                    }
                    if existing[0].integer != item.size || existing[1].text != item.modified {
                        try database.query("UPDATE items SET size = ?, modified = ? WHERE path = ?",
                                           [.integer(item.size), SQLiteValue(item.modified), .text(item.path)])
                    }
                }
                return changes
            }
        }
    }

    // MARK: Reading

    private static let itemColumns =
        "path, size, modified, status, stage, failures, last_error, first_failed, last_failed, skip_reason, updated_at, completed_at"

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
        return record
    }

    public func item(_ path: String) throws -> ItemRecord? {
        try withDatabase { database in
            try database.query("SELECT \(Self.itemColumns) FROM items WHERE path = ?", [.text(path)]).first.map(Self.itemRecord)
        }
    }

    public func allItems() throws -> [ItemRecord] {
        try withDatabase { database in
            try database.query("SELECT \(Self.itemColumns) FROM items ORDER BY listed_order").map(Self.itemRecord)
        }
    }

    public func stageRecords(for path: String) throws -> [String: StageRecord] {
        try withDatabase { database in
            let rows = try database.query(
                "SELECT stage, status, attempt, outputs, checkpoint, error, pid, pid_start, updated_at FROM stages WHERE path = ?",
                [.text(path)])
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
        try withDatabase { database in
            try database.transaction {
                let statuses = includeSkipped ? "('failed', 'skipped')" : "('failed')"
                let reset = "UPDATE items SET status = 'pending', failures = 0, last_error = NULL, first_failed = NULL, last_failed = NULL, skip_reason = NULL"
                guard let paths else {
                    try database.query("\(reset) WHERE status IN \(statuses)")
                    return Int(try database.query("SELECT changes()").first?.first?.integer ?? 0)
                }
                var changed = 0
                for path in paths {
                    try database.query("\(reset) WHERE path = ? AND status IN \(statuses)", [.text(path)])
                    changed += Int(try database.query("SELECT changes()").first?.first?.integer ?? 0)
                }
                return changed
            }
        }
    }

    public func forget(path: String) throws -> Bool {
        try withDatabase { database in
            try database.transaction {
                try database.query("DELETE FROM stages WHERE path = ?", [.text(path)])
                try database.query("DELETE FROM items WHERE path = ?", [.text(path)])
                return (try database.query("SELECT changes()").first?.first?.integer ?? 0) > 0
            }
        }
    }

    public func importItems(_ records: [ItemRecord]) throws {
        try withDatabase { database in
            try database.transaction {
                for record in records {
                    try database.query("DELETE FROM stages WHERE path = ?", [.text(record.path)])
                    try database.query("""
                        INSERT OR REPLACE INTO items(path, listed_order, size, modified, status, stage, failures, last_error,
                            first_failed, last_failed, skip_reason, updated_at, completed_at)
                        VALUES (?1, COALESCE((SELECT listed_order FROM items WHERE path = ?1),
                                             (SELECT COALESCE(MAX(listed_order), 0) + 1 FROM items)),
                                ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                        """, [.text(record.path), SQLiteValue(record.size), SQLiteValue(record.modified),
                              .text(record.status.rawValue), SQLiteValue(record.stage), .integer(Int64(record.failures)),
                              SQLiteValue(record.lastError), SQLiteValue(real: record.firstFailed), SQLiteValue(real: record.lastFailed),
                              SQLiteValue(record.skipReason), SQLiteValue(real: record.updatedAt), SQLiteValue(real: record.completedAt)])
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

    /// Writes a consistent copy of the whole state to `path` (which must not exist).
    public func saveCopy(to path: String) throws {
        try withDatabase { database in _ = try database.query("VACUUM INTO ?", [.text(path)]) }
    }

    public func close() throws {
        connection.withLock { database in
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
