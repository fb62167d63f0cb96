import Foundation
import Testing
@testable import PipelineCore

@Suite("The SQLite state store")
struct StateStoreTests {
    let directory: String

    init() throws {
        directory = NSTemporaryDirectory() + "state-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func refusal(_ path: String) -> PipelineError? {
        do {
            _ = try SQLiteStateStore(path: path)
            return nil
        } catch {
            return error as? PipelineError
        }
    }

    @Test func aStateOfAnotherSchemaIsRefusedAndLeftUntouched() throws {
        let path = directory + "/future.state"
        let store = try SQLiteStateStore(path: path)
        try store.close()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        _ = try connection.query("UPDATE meta SET value = '3' WHERE key = 'schema'")
        connection.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = refusal(path)
        #expect(error?.code == .badData && error?.message.contains("schema 3") == true, "\(String(describing: error))")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func whereSomethingIsFoundIsNotASecretButWhatUnlocksItIs() {
        #expect(!SecretRedactor.looksSecret("token_url") && !SecretRedactor.looksSecret("GOOGLE_TOKEN_URL"))
        #expect(SecretRedactor.looksSecret("refresh_token") && SecretRedactor.looksSecret("GOOGLE_CLIENT_SECRET") && SecretRedactor.looksSecret("api_key"))
    }

    @Test func transitionsSurviveReopeningAndCloseLeavesOneFile() async throws {
        let path = directory + "/a.state"
        let store = try SQLiteStateStore(path: path)
        _ = try store.recordListing([SourceItem(path: "/a.jpg", size: 10, modified: "2026-01-01T00:00:00Z")])
        try await store.commit([.stageStarted(path: "/a.jpg", stage: "fetch", attempt: 1)])
        try await store.commit([.stageDone(path: "/a.jpg", stage: "fetch", outputs: ["file": "a.jpg", "size": 10]),
                                .stageStarted(path: "/a.jpg", stage: "verify", attempt: 1)])
        try store.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        let reopened = try SQLiteStateStore(path: path)
        let records = try reopened.stageRecords(for: "/a.jpg")
        #expect(records["fetch"]?.status == .done)
        #expect(records["fetch"]?.outputs["size"] == 10)
        #expect(records["verify"]?.status == .running)
        #expect(try reopened.item("/a.jpg")?.status == .inProgress)
        try reopened.close()
    }

    @Test func failuresCountAcrossRunsAndRetryResetsThem() async throws {
        let store = try SQLiteStateStore(path: directory + "/f.state")
        _ = try store.recordListing([SourceItem(path: "/x", size: 1)])
        for _ in 0..<3 { try await store.commit([.itemFailed(path: "/x", stage: "fetch", error: "530")]) }
        #expect(try store.item("/x")?.failures == 3)
        #expect(try store.item("/x")?.hasGivenUp(maxFailures: 3) == true)
        #expect(try store.summary(maxFailures: 3).givenUp == 1)
        #expect(try store.retry(paths: nil, includeSkipped: false) == 1)
        #expect(try store.item("/x")?.failures == 0)
        #expect(try store.item("/x")?.status == .pending)
        try store.close()
    }

    @Test func aChangedSourceFileLosesItsStageRecordsButACompletedOneIsKept() async throws {
        let store = try SQLiteStateStore(path: directory + "/c.state")
        _ = try store.recordListing([SourceItem(path: "/a", size: 1, modified: "t1"), SourceItem(path: "/b", size: 1, modified: "t1")])
        try await store.commit([.stageDone(path: "/a", stage: "fetch", outputs: [:]), .itemCompleted(path: "/b", stage: "cleanup")])
        let changes = try store.recordListing([SourceItem(path: "/a", size: 2, modified: "t2"), SourceItem(path: "/b", size: 2, modified: "t2")])
        #expect(changes.changed == ["/a"])
        #expect(try store.stageRecords(for: "/a").isEmpty)
        #expect(try store.item("/b")?.status == .completed)
        try store.close()
    }

    @Test func aCorruptStateFileIsRefusedAndLeftByteIdentical() throws {
        let path = directory + "/corrupt.state"
        let store = try SQLiteStateStore(path: path)
        _ = try store.recordListing((0..<500).map { SourceItem(path: "/item\($0)", size: Int64($0)) })
        try store.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for offset in stride(from: 4096, to: bytes.count, by: 97) { bytes[offset] ^= 0xFF }
        try bytes.write(to: URL(fileURLWithPath: path))
        let error = refusal(path)
        #expect(error?.code == .badData, "\(String(describing: error))")
        #expect(error?.message.contains("left untouched") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes)
    }

    @Test func foreignFilesAreRefusedWithAHint() throws {
        let json = directory + "/upload_state.json"
        try Data("{\"version\": \"1.0\"}".utf8).write(to: URL(fileURLWithPath: json))
        #expect(refusal(json)?.hint?.contains("pipeline state import") == true)
        let text = directory + "/notes.state"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: text))
        #expect(refusal(text)?.message.contains("not a SQLite database") == true)
        let empty = directory + "/empty.state"
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(refusal(empty)?.code == .badData)
        let foreign = directory + "/other.sqlite"
        let other = try SQLiteConnection(path: foreign, readOnly: false)
        try other.execute("CREATE TABLE t(x)")
        other.close()
        #expect(refusal(foreign)?.message.contains("not a pipeline state") == true)
    }

    @Test func aSecondLockOnTheSameStateIsRefused() throws {
        let path = directory + "/locked.state"
        let first = try StateLock(statePath: path)
        #expect(throws: PipelineError.self) { try StateLock(statePath: path) }
        do {
            _ = try StateLock(statePath: path)
        } catch let error as PipelineError {
            #expect(error.exitStatus == .stateLocked)
            #expect(error.message.contains("in use by another pipeline run (pid \(getpid())"))
        }
        _ = first
    }

    @Test func groupCommitKeepsEveryCallersTransitions() async throws {
        let store = try SQLiteStateStore(path: directory + "/g.state")
        let items = (0..<200).map { SourceItem(path: "/p\($0)", size: 1) }
        _ = try store.recordListing(items)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in items {
                group.addTask { try await store.commit([.itemCompleted(path: item.path, stage: "cleanup")]) }
            }
            try await group.waitForAll()
        }
        #expect(try store.summary(maxFailures: 3).completed == 200)
        try store.close()
    }
}
