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

    @Test(arguments: [("timeout: 5m", "timeout: 99999999999999999d"), ("concurrency: 2", "concurrency: 2\ntime_budget: 1e30s"),
                      ("concurrency: 2", "concurrency: 2\nstop_grace: 4000d"),
                      ("timeout: 5m", "timeout: 5m\n    retry: { attempts: 3, backoff: [99999999999999999d] }")])
    func anAbsurdDurationIsRefusedWhereItIsWritten(from: String, to: String) throws {
        try refuses(Self.good.replacingOccurrences(of: from, with: to), saying: ["pipeline.yml:", "at most 3650d"])
    }

    @Test func anAbsurdTimeBudgetOnTheCommandLineIsAUsageError() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.writePipeline(Self.good)
        let result = try PipelineProcess.run(["run", "pipeline.yml", "--time-budget", "99999999999999999d"], in: sandbox.root)
        #expect(result.status == 64, "\(result.error)")
    }

    /// A source that lists a size of 2^63 or more, and a stage whose progress says 1e19 bytes: the
    /// listing fails naming the line (nothing dropped silently), the attempt fails saying why —
    /// before, SIGILL, and every rerun crashed the same way.
    @Test(arguments: [true, false])
    func absurdNumbersFromStagesAreReportedNotTrapped(inTheListing: Bool) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let listing: [[String: Any]] = inTheListing ? [["path": "/big.bin", "size": 1e19], ["path": "/ok.bin", "size": 3]] : [["path": "/ok.bin", "size": 3]]
        try sandbox.writeListedPipeline(listing: listing, then: """
              - name: report
                run: progress-bytes
            """)
        try sandbox.write("/stages/progress-bytes", bytes: Array("""
            #!/bin/sh
            cat >/dev/null
            echo '{"type":"progress","bytes":1e19,"total":1e19}'
            echo '{"type":"result","status":"ok"}'
            """.utf8))
        chmod(sandbox.source + "/stages/progress-bytes", 0o755)
        for _ in 0..<2 {
            let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root,
                                                 environment: ["PIPELINE_STAGES_PATH": sandbox.source + "/stages:" + PipelineProcess.repositoryRoot + "/stages"])
            #expect(result.status == (inTheListing ? 69 : 1), "exit \(result.status): \(result.output) \(result.error)")
            #expect((result.output + result.error).contains("2^63-1"), "\(result.output) \(result.error)")
        }
    }

    @Test(arguments: [
        ("workdir: work", "workdir: dest", "cleanup would delete what was backed up"),
        ("workdir: work", "workdir: src/work", "cleanup would delete source files"),
        ("with: { destination: dest }", "with: { destination: src/backup }", "list its own backups"),
        ("state: test.state", "state: work/test.state", "state file"),
        ("with: { root: src }", "with: { root: . }", "contains"),
    ])
    func overlappingFoldersAreRefusedWhereTheyAreWritten(from: String, to: String, saying: String) throws {
        try refuses(Self.good.replacingOccurrences(of: from, with: to), saying: ["pipeline.yml:", saying])
    }

    @Test func aDestinationThatIsALinkToTheWorkDirectoryIsRefusedAndSoIsWorkdirOnTheCommandLine() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try FileManager.default.createDirectory(atPath: sandbox.root + "/work", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: sandbox.root + "/backup", withDestinationPath: sandbox.root + "/work")
        try sandbox.writePipeline(Self.good.replacingOccurrences(of: "with: { destination: dest }", with: "with: { destination: backup }"))
        let linked = try PipelineProcess.run(["validate", "pipeline.yml"], in: sandbox.root)
        #expect(linked.status == 78 && linked.error.contains("cleanup would delete what was backed up"), "\(linked.error)")
        try sandbox.writePipeline(Self.good)
        let overridden = try PipelineProcess.run(["run", "pipeline.yml", "--workdir", "dest"], in: sandbox.root)
        #expect(overridden.status == 78 && overridden.error.contains("cleanup would delete what was backed up"), "\(overridden.error)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.statePath))
    }

    @Test func anotherPipelinesStateIsRefusedWith65() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        _ = try sandbox.makeFiles(count: 2, sizes: 10...20)
        try sandbox.writePipeline("name: photos\n" + Self.good)
        #expect(try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root).status == 0)
        try sandbox.writePipeline("name: videos\n" + Self.good.replacingOccurrences(of: "with: { destination: dest }", with: "with: { destination: dest2 }"))
        let refused = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(refused.status == 65, "\(refused.error)")
        #expect(refused.error.contains("belongs to the pipeline 'photos'") && refused.error.contains("its own state file"), "\(refused.error)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/dest2"), "the other pipeline ran on the state")
    }

    /// "Billion laughs" in an external stage's `with:` (passed through as JSON, so nothing rejects
    /// it as unknown): eight levels of nine aliases stand for 43 million values in a few lines
    /// (before: over 30 s at eight levels, > 150 s and 2.2 GB at seven in the report).
    @Test func aYAMLAliasBombIsRefusedAtOnce() throws {
        var lines = ["      a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...7 { lines.append("      a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]") }
        try refuses(Self.good + "\n  - name: inspect\n    run: size-check\n    with:\n" + lines.joined(separator: "\n") + "\n",
                    saying: ["more than 100000 values", "aliases"])
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
