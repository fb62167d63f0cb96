import Foundation
import Testing
@testable import PipelineCore

/// A state file written by a pipeline of schema 1 opens in this version: brought to schema 2 in
/// place with nothing lost, then listed and claimed like a new one.
@Suite("A schema 1 state file is migrated in place")
struct SQLiteSchemaMigrationTests {
    let directory = NSTemporaryDirectory() + "schema-migration-\(UUID().uuidString)"

    /// A state file exactly as schema 1 made it (its tables, its `meta`), with one item in progress.
    func schema1State() throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/old.state"
        let database = try SQLiteConnection(path: path, readOnly: false)
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
            INSERT INTO meta(key, value) VALUES ('format', 'pipeline-state'), ('schema', '1'), ('created_at', '2026-01-01T00:00:00Z'),
                ('pipeline', 'photos');
            INSERT INTO items(path, listed_order, size, modified, status, stage, failures) VALUES
                ('/a.jpg', 1, 10, 't1', 'in_progress', 'fetch', 1), ('/b.jpg', 2, 20, 't1', 'completed', 'upload', 0);
            INSERT INTO stages(path, stage, status, attempt, outputs) VALUES ('/a.jpg', 'fetch', 'done', 1, '{"file":"a.jpg"}');
            """)
        database.close()
        return path
    }

    @Test func aSchema1StateKeepsEverythingAndIsClaimedAfterTheNextListing() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try schema1State()
        let store = try SQLiteStateStore(path: path)
        #expect(try store.metadata("schema") == SQLiteStateStore.schemaVersion)
        #expect(try store.metadata("pipeline") == "photos")
        #expect(try store.allItems().map(\.path) == ["/a.jpg", "/b.jpg"])
        #expect(try store.item("/a.jpg")?.status == .inProgress && store.item("/a.jpg")?.failures == 1)
        #expect(try store.stageRecords(for: "/a.jpg")["fetch"]?.outputs == ["file": "a.jpg"])
        let generation = try store.beginListing()
        // Listed again, /b.jpg only: /a.jpg is not claimed until a listing sees it.
        _ = try store.recordListing([SourceItem(path: "/b.jpg", size: 20, modified: "t1")], generation: generation)
        #expect(try store.claimItems(limit: 5, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000)).isEmpty)
        _ = try store.recordListing([SourceItem(path: "/a.jpg", size: 10, modified: "t1")], generation: generation)
        try store.finishListing(generation)
        let claimed = try store.claimItems(limit: 5, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 60_000))
        #expect(claimed.map(\.item.path) == ["/a.jpg"])
        try store.close()
        // Opened again: already of this schema, nothing to do.
        let again = try SQLiteStateStore(path: path)
        #expect(try again.listingProgress() == ListingProgress(generation: generation, complete: true))
        try again.close()
    }

    @Test func aSchema1StateOpenedReadOnlyIsReadAndLeftAsItWas() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try schema1State()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try SQLiteStateStore(path: path, readOnly: true)
        #expect(try reader.summary(maxFailures: 3).inProgress == 1)
        try reader.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }
}
