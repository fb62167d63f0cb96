import Foundation
import Testing

extension EndToEnd {
/// A stage that prints its result and exits, but leaves a process behind holding its stdout:
/// the exit of the stage counts, the leftover is killed, and stops and timeouts still work.
@Suite("External stages' leftover processes")
struct ExternalStageLeftoverTests {
    /// An irreversible "upload" that counts its calls in `uploads.log`, starts `leftover` in the
    /// background (its pid in `leftover.pid`), then does `then`.
    func writePipeline(_ sandbox: Sandbox, leftover: String, then: String, stageSettings: String = "") throws {
        let script = sandbox.root + "/upload.sh"
        try """
            #!/bin/sh
            cat > /dev/null
            echo call >> uploads.log
            \(leftover) &
            echo $! > leftover.pid
            \(then)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        try sandbox.writeListedPipeline(listing: [["path": "/a.jpg", "size": 10]], then: """
              - name: upload
                run: ./upload.sh
                irreversible: true
            \(stageSettings)
            """)
    }

    static let printResult = #"echo '{"type":"result","status":"ok","outputs":{"remote":"r1"}}'"#

    func calls(_ sandbox: Sandbox) -> Int {
        ((try? String(contentsOfFile: sandbox.root + "/uploads.log", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    /// The pid the stage recorded for its leftover, once the leftover has started (with setsid,
    /// `$!` is the setsid process, which execs into the leftover).
    func leftoverIsGone(_ sandbox: Sandbox) -> Bool {
        guard let text = try? String(contentsOfFile: sandbox.root + "/leftover.pid", encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return false }
        return ProcessLiveness.isGone(pid)
    }

    @Test(arguments: ["sleep 300", "setsid sleep 300"])
    func aStageThatExitsLeavingAChildOnItsStdoutCompletesOnceAndTheChildIsKilled(leftover: String) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, leftover: leftover, then: Self.printResult,
                          stageSettings: "    timeout: 20s\n    retry: { attempts: 3, backoff: [1s] }")
        for _ in 1...2 {
            let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root, timeout: 90)
            #expect(result.status == 0, "\(result.output)\n\(result.error)")
        }
        #expect(calls(sandbox) == 1, "an irreversible stage that succeeded is never run again")
        let item = try sandbox.statusItems()["/a.jpg"]
        #expect(item?["status"] as? String == "completed", "\(String(describing: item))")
        #expect(item?.stageOutputs("upload")["remote"] as? String == "r1")
        #expect(leftoverIsGone(sandbox), "the leftover of the stage is killed")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aRunStopsOnASignalWhileAStageRunsWithASetsidChild(signal: Int32) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, leftover: "setsid sleep 300", then: """
            echo '{"type":"log","message":"uploading"}'
            sleep 300
            """)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.waitForEvents(timeout: 60) { $0.event("stage_log", stage: "upload") })
        run.signal(signal)
        let status = run.wait(timeout: 60)
        #expect(status != 137 && status != 128 + SIGKILL, "stopped by the signal, not killed by the hang guard: \(run.stderr)")
        #expect(!run.isRunning)
        #expect(leftoverIsGone(sandbox))
        #expect(try sandbox.statusItems()["/a.jpg"]?["status"] as? String != "completed")
    }

    @Test func aTimeoutEndsAStageWhoseSetsidChildHoldsItsStdout() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, leftover: "setsid sleep 300", then: "sleep 300",
                          stageSettings: "    timeout: 2s\n    retry: { attempts: 1 }")
        let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root, timeout: 90)
        #expect(result.status == 1, "\(result.output)\n\(result.error)")
        let item = try sandbox.statusItems()["/a.jpg"]
        #expect((item?["last_error"] as? String)?.contains("timed out") == true, "\(String(describing: item))")
        #expect(leftoverIsGone(sandbox))
    }
}
}

/// Whether a process has ended (gone, or a zombie nobody has reaped yet).
enum ProcessLiveness {
    static func isGone(_ pid: Int32, within seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let afterName = stat.range(of: ")", options: .backwards)
            else { return true }
            if stat[afterName.upperBound...].split(separator: " ").first == "Z" { return true }
            usleep(20_000)
        } while Date() < deadline
        return false
    }
}
