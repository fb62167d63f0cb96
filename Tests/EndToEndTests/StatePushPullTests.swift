import Foundation
import PostgresTestServer
import Testing

/// `pipeline state push` / `pull` on a real PostgreSQL: a job started on one runner is spread
/// over a shared state and brought back, and the commands refuse what would lose a state.
@Suite("Pushing a state to PostgreSQL and pulling it back", .serialized)
struct StatePushPullTests {
    static func writePipeline(_ sandbox: Sandbox) throws {
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """, settings: "concurrency: 2\nlease: 30s")
    }

    static func pipeline(_ arguments: [String], _ sandbox: Sandbox, _ environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        try PipelineProcess.run(arguments, in: sandbox.root, environment: environment)
    }

    @Test func aJobStartedOnAFileIsFinishedOnTheSharedStateAndPulledBackComplete() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (url, environment) = try SharedStateRunnerTests.sharedState()
        try Self.writePipeline(sandbox)
        let first = try sandbox.makeFiles(count: 12, sizes: 0...3000, folders: 3)
        #expect(try Self.pipeline(["run", "pipeline.yml"], sandbox).status == 0)
        let uploadedFirst = sandbox.files(in: sandbox.destination)
        #expect(uploadedFirst.count == 12)
        // Half done: more files appear in the source.
        for index in 12..<24 { try sandbox.write("/later/photo \(index).jpg", bytes: Array(repeating: UInt8(index), count: index * 10)) }

        let push = try Self.pipeline(["state", "push", "-f", "pipeline.yml", "--to", url], sandbox, environment)
        #expect(push.status == 0, "\(push.error)")
        #expect(push.output.contains("pushed 12 items"), "\(push.output)")

        let runner = try Self.pipeline(["run", "pipeline.yml", "--state", url, "--workdir", "work-2", "--log-format", "json"], sandbox, environment)
        #expect(runner.status == 0, "\(runner.error)")
        let uploads = PipelineProcess.events(in: runner.output).filter { $0["event"] as? String == "stage_done" && $0["stage"] as? String == "upload" }
        #expect(uploads.count == 12, "the runner on the pushed state uploaded \(uploads.count) items, not just the 12 new ones")
        let destination = sandbox.files(in: sandbox.destination)
        #expect(destination.count == 24)
        #expect(uploadedFirst.allSatisfy { destination[$0.key] == $0.value })
        #expect(destination.keys.sorted() == sandbox.files(in: sandbox.source).keys.sorted())

        let pulled = sandbox.root + "/pulled.state"
        let pull = try Self.pipeline(["state", "pull", "--state", url, "--to", "pulled.state"], sandbox, environment)
        #expect(pull.status == 0, "\(pull.error)")
        #expect(!pull.error.contains("warning"), "no runner was at work, yet: \(pull.error)")
        let status = try Self.pipeline(["status", "--state", pulled, "--json"], sandbox)
        let summary = (try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any])?["summary"] as? [String: Any]
        #expect(summary?["completed"] as? Int == 24 && summary?["total"] as? Int == 24, "\(status.output.prefix(600))")
        // A run on the pulled file finds nothing to do.
        let again = try Self.pipeline(["run", "pipeline.yml", "--state", pulled, "--log-format", "json"], sandbox)
        #expect(again.status == 0 && !again.output.contains("\"stage_done\""), "\(again.output.suffix(600))")
        #expect(first.count == 12)

        let password = try PostgresServer.shared().password
        for output in [push, runner, pull] { #expect(!(output.output + output.error).contains(password)) }
    }

    @Test func pushAndPullRefuseWhatWouldLoseAStateAndNeverPrintThePassword() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try PostgresServer.shared()
        let (url, environment) = try SharedStateRunnerTests.sharedState()
        try Self.writePipeline(sandbox)
        try sandbox.makeFiles(count: 3, sizes: 1...100)
        #expect(try Self.pipeline(["run", "pipeline.yml"], sandbox).status == 0)
        #expect(try Self.pipeline(["state", "push", "-f", "pipeline.yml", "--to", url], sandbox, environment).status == 0)

        // Into a state that is there: refused, then replaced with --replace (same pipeline).
        let again = try Self.pipeline(["state", "push", "-f", "pipeline.yml", "--to", url], sandbox, environment)
        #expect(again.status != 0 && again.error.contains("already holds a state of the pipeline 'e2e'"), "\(again.error)")
        let replaced = try Self.pipeline(["state", "push", "-f", "pipeline.yml", "--to", url, "--replace"], sandbox, environment)
        #expect(replaced.status == 0 && replaced.output.contains("replaced"), "\(replaced.error)")

        // Another pipeline's state is not replaced.
        let other = sandbox.root + "/other.state"
        try sandbox.writePipeline(try String(contentsOfFile: sandbox.pipelineFile, encoding: .utf8)
            .replacingOccurrences(of: "name: e2e", with: "name: other").replacingOccurrences(of: "state: test.state", with: "state: other.state"))
        #expect(try Self.pipeline(["run", "pipeline.yml"], sandbox).status == 0)
        let foreign = try Self.pipeline(["state", "push", "--state", other, "--to", url, "--replace"], sandbox, environment)
        #expect(foreign.status != 0 && foreign.error.contains("same pipeline only"), "\(foreign.error)")

        // Pull into an existing file: refused, the file untouched.
        let kept = try Data(contentsOf: URL(fileURLWithPath: other))
        let onto = try Self.pipeline(["state", "pull", "--state", url, "--to", other], sandbox, environment)
        #expect(onto.status != 0 && onto.error.contains("already exists"), "\(onto.error)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == kept)

        // A bad URL, a wrong password (in the URL), a file given as the push target.
        let withPassword = server.url(database: "nosuchdatabase", password: "s3cr3t-in-url")
        let unreachable = try Self.pipeline(["state", "pull", "--state", withPassword, "--to", "x.state"], sandbox)
        #expect(unreachable.status != 0 && !unreachable.error.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/x.state"))
        let malformed = try Self.pipeline(["state", "push", "-f", "pipeline.yml", "--to", "postgres://u:s3cr3t-in-url@[nowhere/db"], sandbox)
        #expect(malformed.status != 0, "\(malformed.output)")
        let toFile = try Self.pipeline(["state", "push", "-f", "pipeline.yml", "--to", "copy.state"], sandbox)
        #expect(toFile.status != 0 && toFile.error.contains("--to takes a postgres://"), "\(toFile.error)")
        for output in [again, replaced, foreign, onto, unreachable, malformed] {
            let text = output.output + output.error
            #expect(!text.contains(server.password) && !text.contains("s3cr3t-in-url"), "\(text)")
        }
    }
}
