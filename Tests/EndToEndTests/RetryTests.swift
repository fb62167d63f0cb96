import Foundation
import Testing

extension EndToEnd {
@Suite("Retries and failure counting")
struct RetryTests {
    func pipeline(_ sandbox: Sandbox, failTimes: Int, exitStatus: Int, retry: String, maxFailures: Int = 3) throws {
        try sandbox.writeFetchPipeline(then: """
              - name: flaky
                run: flaky
                with: { counter: counter, fail_times: \(failTimes), exit_status: \(exitStatus) }
                retry: \(retry)
            """, settings: "max_failures: \(maxFailures)")
    }

    /// Each invocation's line in `counter.log`: attempt number and time.
    func invocations(_ sandbox: Sandbox) -> [(attempt: Int, time: Double)] {
        let text = (try? String(contentsOfFile: sandbox.root + "/counter.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").compactMap { Double($0) }
            return fields.count >= 2 ? (Int(fields[0]), fields[1]) : nil
        }
    }

    @Test func aStageExiting75IsRetriedWithItsBackoffUntilItSucceeds() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 1, sizes: 1000...1000)
        try pipeline(sandbox, failTimes: 2, exitStatus: 75, retry: "{ attempts: 3, backoff: [1s, 2s] }")
        let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: ["PIPELINE_STAGES_PATH": PipelineProcess.repositoryRoot + "/stages"])
        #expect(result.status == 0, "\(result.output)\n\(result.error)")
        let calls = invocations(sandbox)
        #expect(calls.map(\.attempt) == [1, 2, 3])
        if calls.count == 3 {
            #expect(calls[1].time - calls[0].time >= 0.95)
            #expect(calls[2].time - calls[1].time >= 1.95)
        }
        #expect(result.output.contains("\"event\":\"stage_retrying\""))
        #expect((try sandbox.status()["summary"] as? [String: Any])?["completed"] as? Int == 1)
    }

    /// The service down for three runs: each run stops (69) once several items in a row cannot get
    /// through, and no item spends its failures on it (before: all given up, the 4th run exit 0).
    @Test func anOutageStopsTheRunWithoutSpendingAnyItemsFailures() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let paths = try sandbox.makeFiles(count: 6, sizes: 100...100)
        try sandbox.writeFetchPipeline(then: """
              - name: flaky
                run: flaky
                with: { counter: counter, fail_times: -1, exit_status: 75 }
                retry: { attempts: 2, backoff: [0s] }
            """, settings: "max_failures: 2\nconcurrency: 2")
        let environment = ["PIPELINE_STAGES_PATH": PipelineProcess.repositoryRoot + "/stages"]
        for _ in 0..<3 {
            let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root, environment: environment)
            #expect(result.status == 69, "\(result.output)")
            #expect(result.output.contains("the service seems down"), "\(result.output)")
        }
        let items = try sandbox.statusItems()
        #expect(paths.allSatisfy { (items[$0]?["failures"] as? Int) == 0 }, "\(items.mapValues { $0["failures"] ?? "?" })")
        #expect(!items.values.contains { $0["status"] as? String == "given_up" })
    }

    @Test func aStageThatAlwaysFailsIsCountedAcrossRunsSkippedAtMaxFailuresAndBackAfterRetry() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let paths = try sandbox.makeFiles(count: 1, sizes: 1000...1000)
        try pipeline(sandbox, failTimes: -1, exitStatus: 1, retry: "{ attempts: 3, backoff: [1s] }", maxFailures: 2)

        for expectedFailures in 1...2 {
            let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
            #expect(result.status == 1, "a run with a failed item exits 1: \(result.error)")
            let item = try sandbox.statusItems()[paths[0]]
            #expect(item?["failures"] as? Int == expectedFailures)
            #expect((item?["last_error"] as? String)?.contains("flaky exited with status 1") == true, "\(String(describing: item))")
        }
        // Exit status 1 is not retryable: one invocation per run.
        #expect(invocations(sandbox).count == 2)
        #expect(try sandbox.statusItems()[paths[0]]?["status"] as? String == "given_up")

        // Set aside, not tried again; but with nothing else left the run is not a success: it lists
        // the item with its last error and exits 1, so someone looks (a schedule turns red).
        let skipped = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
        #expect(skipped.status == 1)
        #expect(skipped.output.contains("failed 2 runs and is set aside"), "\(skipped.output)")
        #expect(skipped.output.contains("given up: \(paths[0])") && skipped.output.contains("flaky exited with status 1"), "\(skipped.output)")
        #expect(invocations(sandbox).count == 2, "a given-up item was tried again")

        let retry = try PipelineProcess.run(["retry", "-f", "pipeline.yml", paths[0]], in: sandbox.root)
        #expect(retry.status == 0, "\(retry.error)")
        let again = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
        #expect(again.status == 1)
        #expect(invocations(sandbox).count == 3)
        #expect(try sandbox.statusItems()[paths[0]]?["failures"] as? Int == 1)
    }
}
}
