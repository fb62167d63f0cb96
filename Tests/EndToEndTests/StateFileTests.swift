import Foundation
import Testing

extension EndToEnd {
/// The state file is the job's memory: a second name for it does not bypass the lock, and a state
/// deleted during a run is written back, not lost (before: exit 0, the next run from scratch).
@Suite("The state file: one name, one run, never lost")
struct StateFileTests {
    @Test func aStateDeletedDuringARunIsWrittenBackAndTheNextRunGoesOn() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let files = try sandbox.makeFiles(count: 8, sizes: 200_000...300_000)
        try sandbox.writeLocalPipeline(concurrency: 1, fetchRate: "1MB")
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.waitForEvents(count: 2) { $0.event("item_completed") })
        try FileManager.default.removeItem(atPath: sandbox.statePath)
        let status = run.wait()
        #expect(status == 74, "\(run.lines.suffix(5))")
        #expect(run.lines.joined().contains("written back from the open copy"), "\(run.lines.suffix(5))")
        let completed = (try sandbox.status()["summary"] as? [String: Any])?["completed"] as? Int ?? 0
        #expect(completed >= 2, "the written-back state lost the completed items")
        let next = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(next.status == 0, "\(next.error)")
        let redone = PipelineProcess.events(in: next.output).filter { $0.event("item_completed") }.count
        #expect(redone == files.count - completed, "items done before the deletion were done again")
    }

    @Test func aHardLinkToAStateInUseDoesNotBypassTheLock() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        _ = try sandbox.makeFiles(count: 6, sizes: 200_000...300_000)
        try sandbox.writeLocalPipeline(concurrency: 1, fetchRate: "1MB")
        #expect(try PipelineProcess.run(["run", "pipeline.yml", "--time-budget", "100ms"], in: sandbox.root).status == 75)
        try FileManager.default.linkItem(atPath: sandbox.statePath, toPath: sandbox.root + "/other-name.state")
        let first = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(first.waitForEvents { $0.event("stage_started") })
        let second = try PipelineProcess.run(["run", "pipeline.yml", "--state", "other-name.state"], in: sandbox.root)
        #expect(second.status == 73, "\(second.error)")
        #expect(second.error.contains("hard link"), "\(second.error)")
        first.signal(SIGINT)
        _ = first.wait()
    }
}
}
