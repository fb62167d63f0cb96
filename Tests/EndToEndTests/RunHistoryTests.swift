import Foundation
import Testing

extension EndToEnd {
/// Every run leaves a row in the state's run history; one killed with -9 keeps its row without an end.
@Suite("The run history survives kill -9")
struct RunHistoryTests {
    /// The runs as the state file holds them: number, ended (0/1), exit status, completed items.
    func runs(_ sandbox: Sandbox) throws -> [[Int]] {
        let text = try Command.output(["python3", "-c", """
            import json, sqlite3, sys
            rows = sqlite3.connect(sys.argv[1]).execute(
                "SELECT number, ended_at IS NOT NULL, COALESCE(exit_code, -1), completed FROM runs ORDER BY number").fetchall()
            print(json.dumps(rows))
            """, sandbox.statePath])
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Int]] ?? []
    }

    @Test func aKilledRunKeepsItsRowWithoutAnEndAndTheNextRunGoesOn() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 6, sizes: 300_000...400_000)
        try sandbox.writeLocalPipeline(concurrency: 1, fetchRate: "1MB")
        let killed = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(killed.waitForEvents { $0.event("stage_started", stage: "fetch") }, "\(killed.lines.suffix(5)) \(killed.stderr)")
        killed.signal(SIGKILL)
        #expect(killed.wait() == 128 + SIGKILL)
        #expect(try runs(sandbox) == [[1, 0, -1, 0]])

        let finished = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(finished.status == 0, "\(finished.error)")
        #expect(try runs(sandbox) == [[1, 0, -1, 0], [2, 1, 0, 6]])
    }
}
}
