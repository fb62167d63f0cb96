import Foundation
import PostgresTestServer
import Testing

/// Several `pipeline run` processes on one PostgreSQL state, as a matrix of CI runners would be:
/// each with its own work directory (its own machine), the source and destination shared.
@Suite("Runners sharing one PostgreSQL state", .serialized)
struct SharedStateRunnerTests {
    /// The state's URL without its password (which goes in `PIPELINE_STATE_PASSWORD`), and that environment.
    static func sharedState() throws -> (url: String, environment: [String: String]) {
        let server = try PostgresServer.shared()
        let url = try server.makeDatabase().replacingOccurrences(of: ":\(server.password)@", with: "@")
        return (url, ["PIPELINE_STATE_PASSWORD": server.password])
    }

    static func writePipeline(_ sandbox: Sandbox, lease: String) throws {
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
              - name: cleanup
                uses: delete-local
            """, settings: "concurrency: 3\nlease: \(lease)")
    }

    static func runner(_ number: Int, _ sandbox: Sandbox, url: String, environment: [String: String]) throws -> PipelineProcess {
        try PipelineProcess(["run", "pipeline.yml", "--state", url, "--workdir", "work-\(number)", "--log-format", "json"],
                            in: sandbox.root, environment: environment)
    }

    @Test func fourRunnersUnderKillsAndAFreezeMoveEveryFileExactlyOnce() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (url, environment) = try Self.sharedState()
        let paths = try sandbox.makeFiles(count: 2000, sizes: 0...6000, folders: 25)
        try Self.writePipeline(sandbox, lease: "3s")

        var random = SplitMix(seed: 7)
        var slots = try (0..<4).map { try Self.runner($0, sandbox, url: url, environment: environment) }
        var finished: [PipelineProcess] = []
        var started = 4

        // The frozen runner: stopped (SIGSTOP) for three leases once it works, then let go on.
        let frozen = slots[3]
        #expect(frozen.waitForEvents(count: 5, timeout: 120) { $0["event"] as? String == "item_completed" })
        let linesBeforeFreeze = frozen.lines.count
        frozen.signal(SIGSTOP)

        // Meanwhile, runners die by kill -9 at random moments and new ones take their place.
        var kills = 0
        let chaosEnds = Date().addingTimeInterval(9)
        while Date() < chaosEnds {
            usleep(UInt32(300_000 + random.next() % 700_000))
            let victim = Int(random.next() % 3)
            guard slots[victim].isRunning else { continue }
            slots[victim].signal(SIGKILL)
            slots[victim].wait()
            kills += 1
            finished.append(slots[victim])
            slots[victim] = try Self.runner(started, sandbox, url: url, environment: environment)
            started += 1
        }
        frozen.signal(SIGCONT)
        #expect(kills >= 4)

        // Runners end when nothing is left to claim; new ones start while any work is left.
        var lastStatus: Int32 = -1
        for round in 0..<20 {
            for runner in slots { lastStatus = runner.wait(timeout: 300) }
            finished += slots
            if lastStatus == 0 && slots.allSatisfy({ $0.wait() == 0 }) { break }
            slots = try (0..<2).map { try Self.runner(started + $0, sandbox, url: url, environment: environment) }
            started += 2
            #expect(round < 19, "work was still left after 20 rounds of runners")
        }

        // Every file arrived once, byte for byte, and nothing else is at the destination.
        let source = sandbox.files(in: sandbox.source), destination = sandbox.files(in: sandbox.destination)
        #expect(destination.count == paths.count)
        #expect(destination.keys.sorted() == source.keys.sorted())
        #expect(destination.filter { source[$0.key] != $0.value }.isEmpty, "a destination file differs from its source")

        // Every item is completed in the state, and a new runner finds nothing to do.
        let last = try PipelineProcess.run(["run", "pipeline.yml", "--state", url, "--workdir", "work-last", "--log-format", "json"],
                                           in: sandbox.root, environment: environment)
        #expect(last.status == 0, "\(last.error)")
        let events = PipelineProcess.events(in: last.output)
        let summary = events.last { $0["event"] as? String == "run_finished" }?["summary"] as? [String: Any]
        #expect(summary?["completed"] as? Int == paths.count, "\(summary ?? [:])")

        // The frozen runner lost the items it held and said so; once it knew, it finished no upload
        // it had begun for them. (It may claim such an item again later, from a runner killed
        // meanwhile: that is a new upload, begun after. One finished before the freeze may still be
        // reported after it.)
        let afterFreeze = PipelineProcess.events(in: frozen.lines.dropFirst(linesBeforeFreeze).joined(separator: "\n"))
        var lost = Set<String>(), everLost = Set<String>(), uploadedLate: [String] = []
        for event in afterFreeze {
            let path = event["path"] as? String ?? ""
            switch (event["event"] as? String, event["stage"] as? String) {
            case ("notice", _):
                if let message = event["message"] as? String, message.contains("another runner goes on with it") {
                    lost.insert(message.components(separatedBy: ":").first ?? "")
                    everLost.formUnion(lost)
                }
            case ("stage_started", "upload"?):
                lost.remove(path)
            case ("stage_done", "upload"?) where lost.contains(path):
                uploadedLate.append(path)
            default:
                break
            }
        }
        #expect(!everLost.isEmpty, "the frozen runner reported no lost lease")
        #expect(uploadedLate.isEmpty, "the frozen runner uploaded items after it knew it had lost them: \(uploadedLate)")

        // The password was never printed.
        let server = try PostgresServer.shared()
        for runner in finished + [frozen] {
            #expect(!(runner.lines.joined() + runner.stderr).contains(server.password))
        }
    }
}
