import Foundation
import Testing

extension EndToEnd {
@Suite("Time budget, signals and orphaned stages")
struct StopTests {
    /// Processes running the test stage `flaky`.
    func flakyProcesses() -> Set<Int32> {
        let ps = Process()
        ps.executableURL = URL(fileURLWithPath: "/bin/ps")
        ps.arguments = ["-eo", "pid=,args="]
        let pipe = Pipe()
        ps.standardOutput = pipe
        try? ps.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        ps.waitUntilExit()
        return Set(text.split(separator: "\n").filter { $0.contains("stages/flaky") }.compactMap {
            Int32($0.trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        })
    }

    /// A grace far longer than the test allows: a stop must come from SIGTERM reaching the
    /// stage, not from the SIGKILL that follows the grace.
    func slowStagePipeline(_ sandbox: Sandbox, sleep: Int) throws {
        try sandbox.writeFetchPipeline(then: """
              - name: slow
                run: flaky
                with: { counter: counter, fail_times: 0, sleep: \(sleep) }
            """, settings: "stop_grace: 10s")
    }

    /// Starts a run of one item whose `slow` stage sleeps a minute, and waits until it is in it.
    func runInsideSlowStage(_ sandbox: Sandbox) throws -> PipelineProcess {
        try sandbox.makeFiles(count: 1, sizes: 1000...1000)
        try slowStagePipeline(sandbox, sleep: 60)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.waitForEvents { $0.event("stage_started", stage: "slow") })
        usleep(400_000)
        return run
    }

    @Test func aTimeBudgetStopsTheRunCleanlyWithItemsMidwayAndTheNextRunFinishes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let originals = try sandbox.makeFiles(count: 3, sizes: 1_200_000...1_200_000)
        try sandbox.writeLocalPipeline(concurrency: 2, fetchRate: "300KB")
        let began = Date()
        let stopped = try PipelineProcess.run(["run", "pipeline.yml", "--time-budget", "3s", "--log-format", "plain"], in: sandbox.root)
        let elapsed = Date().timeIntervalSince(began)
        #expect(stopped.status == 75, "\(stopped.output)\n\(stopped.error)")
        #expect(elapsed < 8, "took \(elapsed) s")
        #expect(stopped.output.contains("stopping: time budget of 3s reached"))
        let summary = try sandbox.status()["summary"] as? [String: Any]
        #expect(summary?["in_progress"] as? Int == 2, "\(String(describing: summary))")
        let partials = sandbox.files(in: sandbox.workdir).filter { $0.key.hasSuffix("%partial") }
        #expect(partials.count == 2 && partials.values.allSatisfy { $0.count > 500_000 }, "fetches were not recorded mid-way")

        let finished = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
        #expect(finished.status == 0)
        #expect(finished.output.contains("resuming at byte"))
        let sources = sandbox.files(in: sandbox.source), delivered = sandbox.files(in: sandbox.destination)
        #expect(Set(delivered.keys) == Set(originals))
        for path in originals { #expect(delivered[path] == sources[path]) }
    }

    @Test func sigtermDuringAStageExitsWithinFiveSecondsAndTheNextRunFinishes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let run = try runInsideSlowStage(sandbox)
        let signalled = Date()
        run.signal(SIGTERM)
        let status = run.wait(timeout: 20)
        let elapsed = Date().timeIntervalSince(signalled)
        #expect(status == 75, "\(run.lines.suffix(3))")
        #expect(elapsed < 3, "took \(elapsed) s to stop: the stage did not end on SIGTERM")
        #expect(run.events.contains { $0.event("item_left", stage: "slow") })
        #expect(flakyProcesses().isEmpty, "the stage's process outlived the run")
        #expect(try sandbox.statusItems().values.first?["stage"] as? String == "slow")

        try slowStagePipeline(sandbox, sleep: 0)
        let next = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(next.status == 0)
        #expect(try sandbox.statusItems().values.first?["status"] as? String == "completed")
    }

    @Test func aStageOrphanedByKill9IsStoppedByTheNextRun() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let run = try runInsideSlowStage(sandbox)
        run.signal(SIGKILL)
        run.wait()
        let orphans = flakyProcesses()
        #expect(!orphans.isEmpty, "kill -9 should leave the stage process behind")

        try slowStagePipeline(sandbox, sleep: 0)
        let next = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(next.status == 0)
        #expect(next.output.contains("left running by an earlier run"))
        #expect(flakyProcesses().isDisjoint(with: orphans), "the orphan is still running")
    }

    @Test func aStopWhileListingExitsAsStoppedEarlyAndChangesNothing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try FileManager.default.createDirectory(atPath: sandbox.root + "/stages", withIntermediateDirectories: true)
        try "#!/bin/sh\nsleep 30\n".write(toFile: sandbox.root + "/stages/slow-list", atomically: true, encoding: .utf8)
        chmod(sandbox.root + "/stages/slow-list", 0o755)
        try sandbox.writePipeline("""
            version: 1
            state: test.state
            workdir: work
            stop_grace: 10s
            source:
              run: slow-list
            stages:
              - name: fetch
                uses: local-fetch
                with: { root: src }
            """)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.waitForEvents { $0.event("run_started") })
        usleep(500_000)
        run.signal(SIGINT)
        #expect(run.wait(timeout: 20) == 75)
        let summary = try sandbox.status()["summary"] as? [String: Any]
        #expect(summary?["total"] as? Int == 0)
    }
}
}
