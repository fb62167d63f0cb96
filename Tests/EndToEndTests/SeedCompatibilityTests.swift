import Foundation
import Testing

extension EndToEnd {
@Suite("The old script's upload_state.json")
struct SeedCompatibilityTests {
    static let fixture = PipelineProcess.repositoryRoot + "/Tests/PipelineCoreTests/Fixtures/upload_state.json"

    @Test func importedCompletedItemsAreSkippedAndExportKeepsTheSchema() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let seedCompleted = ["/Movies/Avatar 3D (2009)/Avatar.3D.2009.1080p.mkv", "/Movies/Gravity 3D (2013)/Gravity.3D.2013.1080p.iso"]
        for path in seedCompleted + ["/Movies/Large/BigFile.mkv", "/Movies/TooLarge/60GB.mkv", "/Movies/New/Fresh.mkv"] {
            try sandbox.write(path, bytes: Array(path.utf8))
        }
        try sandbox.writeLocalPipeline()
        let imported = try PipelineProcess.run(["state", "import", Self.fixture, "-f", "pipeline.yml"], in: sandbox.root)
        #expect(imported.status == 0, "\(imported.error)")
        #expect(imported.output.contains("imported 4 items"))

        let run = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.status == 0, "\(run.error)")
        let delivered = Set(sandbox.files(in: sandbox.destination).keys)
        #expect(delivered == ["/Movies/Large/BigFile.mkv", "/Movies/New/Fresh.mkv"], "completed or skipped seed items were processed")

        let exported = try PipelineProcess.run(["state", "export", "--format", "seed", "-f", "pipeline.yml"], in: sandbox.root)
        #expect(exported.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(exported.output.utf8)) as? [String: Any])
        let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.fixture))) as? [String: Any])
        #expect(Set(object.keys) == Set(original.keys))
        #expect(Set(object["completed"] as? [String] ?? []) == Set(seedCompleted + ["/Movies/Large/BigFile.mkv", "/Movies/New/Fresh.mkv"]))
        #expect(object["skipped"] as? [String] == ["/Movies/TooLarge/60GB.mkv"])
        #expect(Set((object["stats"] as? [String: Any] ?? [:]).keys) == Set((original["stats"] as? [String: Any] ?? [:]).keys))
    }

    @Test func aFailedImportLeavesNoEmptyStateBehind() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try "{ not json".write(toFile: sandbox.root + "/upload_state.json", atomically: true, encoding: .utf8)
        let result = try PipelineProcess.run(["state", "import", "upload_state.json", "--state", "new.state"], in: sandbox.root)
        #expect(result.status != 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/new.state"), "a failed import left a state file")
    }

    @Test func aSeedFileGivenAsStateIsRefusedWithTheImportHint() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.writeLocalPipeline()
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: sandbox.statePath)
        let result = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(result.status == 65)
        #expect(result.error.contains("pipeline state import"))
    }
}
}
