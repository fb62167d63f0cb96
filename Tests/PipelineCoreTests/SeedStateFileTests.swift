import Foundation
import Testing
@testable import PipelineCore

@Suite("The old script's upload_state.json")
struct SeedStateFileTests {
    static let fixture = Bundle.module.path(forResource: "upload_state", ofType: "json", inDirectory: "Fixtures")!

    @Test func importsTheSeedExample() throws {
        let records = Dictionary(uniqueKeysWithValues: try SeedStateFile.records(fromFile: Self.fixture).map { ($0.path, $0) })
        #expect(records["/Movies/Avatar 3D (2009)/Avatar.3D.2009.1080p.mkv"]?.status == .completed)
        #expect(records["/Movies/Gravity 3D (2013)/Gravity.3D.2013.1080p.iso"]?.status == .completed)
        let failed = try #require(records["/Movies/Large/BigFile.mkv"])
        #expect(failed.status == .failed)
        #expect(failed.failures == 2)
        #expect(failed.lastError == "Failed to download after 5 attempts")
        #expect(failed.firstFailed == 1_761_901_200)
        #expect(records["/Movies/TooLarge/60GB.mkv"]?.status == .skipped)
        #expect(records["/Movies/Current/Processing.mkv"] == nil)
    }

    @Test func exportGivesBackTheSameSchema() throws {
        let path = NSTemporaryDirectory() + "seed-\(UUID().uuidString).state"
        let store = try SQLiteStateStore(path: path)
        _ = try SeedStateFile.importFile(Self.fixture, into: store)
        let exported = try SeedStateFile.export(store)
        try store.close()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(exported.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["version", "last_updated", "completed", "failed", "in_progress", "skipped", "stats"])
        #expect(object["version"] as? String == "1.0")
        #expect((object["completed"] as? [String])?.count == 2)
        let failure = try #require((object["failed"] as? [String: Any])?["/Movies/Large/BigFile.mkv"] as? [String: Any])
        #expect(Set(failure.keys) == ["attempts", "last_error", "first_failed", "last_failed"])
        #expect(failure["attempts"] as? Int == 2)
        #expect(failure["first_failed"] as? String == "2025-10-31T09:00:00.000000")
        #expect(object["skipped"] as? [String] == ["/Movies/TooLarge/60GB.mkv"])
        let stats = try #require(object["stats"] as? [String: Any])
        #expect(Set(stats.keys) == ["total_uploaded", "total_failed", "total_bytes"])
        #expect(stats["total_bytes"] as? Int64 == 385_875_968_000)
        let updated = try #require(object["last_updated"] as? String)
        #expect(updated.count == 26 && !updated.hasSuffix("Z"))
    }

    @Test func refusesJSONThatIsNotASeedState() throws {
        let path = NSTemporaryDirectory() + "not-seed-\(UUID().uuidString).json"
        try Data("[1, 2]".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: PipelineError.self) { try SeedStateFile.records(fromFile: path) }
    }
}
