import Foundation
import Testing

extension EndToEnd {
/// Each external-stage run closes every descriptor it opened: a thousand items pass through a
/// stage under a limit of 128 open files.
@Suite("External stages' file descriptors")
struct ExternalStageFileDescriptorTests {
    @Test func elevenHundredItemsPassThroughAnExternalStageUnderALimitOf128OpenFiles() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let script = sandbox.root + "/pass.sh"
        try """
            #!/bin/sh
            cat > /dev/null
            echo "a line on stderr" >&2
            echo '{"type":"result","status":"ok","outputs":{"seen":true}}'
            """.write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let count = 1100
        try sandbox.writeListedPipeline(listing: (0..<count).map { ["path": "/f\($0).jpg", "size": 1] }, fetch: """
              - name: pass
                run: ./pass.sh
            """)
        let result = try Self.run(["/usr/bin/prlimit", "--nofile=128", "--", PipelineProcess.binary,
                                   "run", "pipeline.yml", "--log-format", "plain", "--concurrency", "4"], in: sandbox.root)
        // What went wrong with the items that did not complete, rather than the log's last lines.
        let unfinished = try sandbox.statusItems().values.filter { $0["status"] as? String != "completed" }
            .map { "\($0["path"] ?? "?"): \($0["status"] ?? "?") at \($0["stage"] ?? "-"): \($0["last_error"] ?? "no error")" }
        #expect(result.status == 0, "\(unfinished)\n\(result.output.suffix(2000))")
        #expect(!result.output.contains("Too many open files"))
        let summary = try sandbox.status()["summary"] as? [String: Any]
        #expect(summary?["completed"] as? Int == count, "\(String(describing: summary)); \(unfinished)")
    }

    /// Runs a command with the stages folder on the search path; returns its status and output (both streams).
    static func run(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(["PIPELINE_STAGES_PATH": PipelineProcess.repositoryRoot + "/stages"]) { _, new in new }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
}
