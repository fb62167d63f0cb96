import Foundation
import Testing

extension EndToEnd {
/// `pipeline plan` and the plan every run ends with: what is left and what it costs under
/// Google's 10,000 requests a day.
@Suite("The plan of what is left")
struct PlanTests {
    let photos = GooglePhotosTests()

    @Test func beforeTheFirstRunThePlanListsTheSourceAndAfterARunItReadsTheState() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        for index in 0..<4 { try photos.randomFile(sandbox, "/p\(index).jpg", size: 5_000) }
        try photos.randomFile(sandbox, "/big.mp4", size: 300_000)
        // Small chunks so the video's cost shows: a session start and three chunks.
        try photos.writePipeline(sandbox, emulator, extra: ", raw_upload_limit: 0, chunk_size: 256KiB")
        let before = try PipelineProcess.run(["plan", "pipeline.yml"], in: sandbox.root, environment: GooglePhotosTests.environment)
        #expect(before.status == 0, "\(before.error)")
        // 4 photos × (start + 1 chunk) + the video (start + 2 chunks) + 1 batchCreate = 12.
        #expect(before.output.hasPrefix("5 items (320.00KB) left: 12 Google Photos Library API requests, 1 day at 10,000 a day"), "\(before.output)")

        // One photo refused for good: the run ends with it left (a session start, a chunk and its
        // batchCreate), in the log and the step summary.
        try emulator.addFault(["kind": "item_status", "code": 3, "file_name": "p2.jpg"])
        let summary = sandbox.root + "/summary.md"
        FileManager.default.createFile(atPath: summary, contents: nil)
        var environment = GooglePhotosTests.environment
        environment["GITHUB_ACTIONS"] = "true"
        environment["GITHUB_STEP_SUMMARY"] = summary
        let run = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root, environment: environment)
        #expect(run.status == 1, "\(run.output.suffix(600))")
        #expect(run.output.contains("left: 1 item (5.00KB) left: 3 Google Photos Library API requests"), "\(run.output.suffix(900))")
        let markdown = try String(contentsOfFile: summary, encoding: .utf8)
        #expect(markdown.contains("**Left:** 1 item (5.00KB) left"), "\(markdown)")
        let after = try PipelineProcess.run(["plan", "pipeline.yml", "--json"], in: sandbox.root)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(after.output.utf8)) as? [String: Any], "\(after.output) \(after.error)")
        #expect(json["items"] as? Int == 1 && json["bytes"] as? Int == 5_000)
        let quota = (json["quotas"] as? [[String: Any]])?.first
        #expect(quota?["requests"] as? Int == 3 && quota?["daily_requests"] as? Int == 10_000 && quota?["days"] as? Int == 1, "\(json)")
    }
}
}
