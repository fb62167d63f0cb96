import Foundation
import Testing

extension EndToEnd {
@Suite("Bad input gets a clear error and loses nothing")
struct BadInputTests {
    static let good = """
        version: 1
        state: test.state
        workdir: work
        concurrency: 2
        source:
          uses: local-list
          with: { root: src }
          max_size: 20MB
        stages:
          - name: fetch
            uses: local-fetch
            timeout: 5m
          - name: upload
            uses: local-upload
            with: { destination: dest }
        """

    /// Runs `validate` and `run` on a broken file: both refuse with 78 and the message; no state appears.
    func refuses(_ text: String, saying expected: [String], environment: [String: String] = [:]) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.writePipeline(text)
        for command in ["validate", "run"] {
            let result = try PipelineProcess.run([command, "pipeline.yml"], in: sandbox.root, environment: environment)
            #expect(result.status == 78, "\(command): \(result.error)")
            for fragment in expected { #expect(result.error.contains(fragment), "\(command): \(result.error)") }
        }
        #expect(!FileManager.default.fileExists(atPath: sandbox.statePath))
    }

    @Test func brokenYAMLNamesFileLineAndColumn() throws {
        try refuses("version: 1\nsource:\n  uses: local-list\n  with: [root: src\nstages: []\n", saying: ["pipeline.yml:5:", "invalid YAML"])
    }

    @Test func unknownKeyAndUnknownStageSuggestTheNearestName() throws {
        try refuses(Self.good.replacingOccurrences(of: "concurrency: 2", with: "concurency: 2"),
                    saying: ["pipeline.yml:4:1: unknown key 'concurency'", "did you mean 'concurrency'?"])
        try refuses(Self.good.replacingOccurrences(of: "uses: local-upload", with: "uses: local-uplaod"),
                    saying: ["pipeline.yml:14:11: unknown stage 'local-uplaod'", "did you mean 'local-upload'?"])
    }

    @Test func missingVariableIsNamedAndItsValueNeverPrinted() throws {
        try refuses(Self.good.replacingOccurrences(of: "root: src }", with: "root: \"${PHOTO_ROOT:?set it to the library folder}\" }"),
                    saying: ["pipeline.yml:7:", "environment variable PHOTO_ROOT is not set: set it to the library folder"])
    }

    @Test func badDurationAndSizeAreRefused() throws {
        try refuses(Self.good.replacingOccurrences(of: "timeout: 5m", with: "timeout: 5 minutes"),
                    saying: ["pipeline.yml:12:14: 'timeout' must be a duration"])
        try refuses(Self.good.replacingOccurrences(of: "max_size: 20MB", with: "max_size: 20MiBs"),
                    saying: ["pipeline.yml:8:13: 'max_size' must be a size"])
    }

    @Test func aCorruptStateFileIsRefusedAndLeftByteIdentical() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 5, sizes: 1000...2000)
        try sandbox.writePipeline(Self.good)
        #expect(try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root).status == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: sandbox.statePath))
        for offset in stride(from: 100, to: bytes.count, by: 61) { bytes[offset] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: sandbox.statePath))
        for arguments in [["run", "pipeline.yml"], ["status", "pipeline.yml"], ["retry", "-f", "pipeline.yml", "--all-failed"]] {
            let result = try PipelineProcess.run(arguments, in: sandbox.root)
            #expect(result.status == 65, "\(arguments): \(result.error)")
            #expect(result.error.contains("left untouched"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.statePath)) == bytes)
    }

    @Test func aSecondRunOnALockedStateIsRefused() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 2, sizes: 2_000_000...2_000_000)
        try sandbox.writePipeline(Self.good.replacingOccurrences(of: "timeout: 5m", with: "with: { rate_limit: 500KB }"))
        let first = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(first.waitForEvents { $0.event("stage_started", stage: "fetch") })
        let second = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(second.status == 73)
        #expect(second.error.contains("is in use by another pipeline run (pid \(first.pid)"), "\(second.error)")
        // Looking is fine while it runs.
        let status = try PipelineProcess.run(["status", "pipeline.yml"], in: sandbox.root)
        #expect(status.status == 0, "\(status.error)")
        #expect(status.output.contains("🔄 In progress: /album"), "\(status.output)")
        first.signal(SIGTERM)
        #expect(first.wait() == 75)
        #expect(try PipelineProcess.run(["status", "pipeline.yml"], in: sandbox.root).status == 0)
    }

    @Test func hostileRemoteNamesNeverLeaveTheWorkOrDestinationDirectory() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let marker = "escape-\(UUID().uuidString.prefix(8)).txt"
        let names = ["/../../\(marker)", "/a/../../../\(marker)", "/ctl\u{01}name\nline.txt", "/./dot.txt", "/ok/normal.txt"]
        try sandbox.writeListedPipeline(listing: names.map { ["path": $0, "size": 10] }, then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """)
        let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
        // Paths with `.` or `..` segments are refused by name (failed, exit 1); others arrive under their exact names.
        #expect(result.status == 1, "\(result.output)\n\(result.error)")
        let temporary = (sandbox.root as NSString).deletingLastPathComponent
        for place in [temporary, sandbox.root, sandbox.root + "/work", (temporary as NSString).deletingLastPathComponent] {
            #expect(!FileManager.default.fileExists(atPath: place + "/" + marker), "escaped to \(place)")
        }
        let delivered = Set(sandbox.files(in: sandbox.destination).keys)
        #expect(delivered == ["/ctl\u{01}name\nline.txt", "/ok/normal.txt"])
        let items = try sandbox.statusItems()
        for name in ["/../../\(marker)", "/a/../../../\(marker)", "/./dot.txt"] {
            #expect(items[name]?["status"] as? String == "failed")
            #expect((items[name]?["last_error"] as? String ?? "").contains("refusing the path"), "\(items[name] ?? [:])")
        }
        #expect(!result.output.contains("\u{01}"), "a control character reached the log")
        #expect(result.output.contains("ctl\\x01name\\x0Aline.txt"))
    }
}
}
