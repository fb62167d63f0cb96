import Foundation
import PipelineCore
import Testing

extension EndToEnd {
@Suite("The terminal display, on a real pseudo-terminal at 120 and 48 columns")
struct TerminalDisplayTests {
    /// What `Scripts/pty-screen` saw: the final screen (with its scrollback) and the one when Ctrl-C was typed.
    struct Screen {
        var status: Int
        /// Rows that wrapped are joined back into one line.
        var lines: [String]
        var rows: [String]
        var snapshotRows: [String]

        /// Lines of the live block (which must all be gone once the run ended).
        static func isBlockRow(_ row: String) -> Bool {
            row.contains(" · ETA ") || row.contains(" left · ") || row.hasPrefix(" * ") || row.hasPrefix("Listing the source")
                || row.hasPrefix("[") && row.contains(" files]")
        }

        func count(_ text: String) -> Int { lines.filter { $0.contains(text) }.count }
    }

    /// Six photos deep in long folder names, fetched at 300 KB/s two at a time: a run of a few seconds.
    func longPathSandbox() throws -> (Sandbox, [String]) {
        let sandbox = try Sandbox()
        let folder = "/Photos/2019/Summer holidays in the mountains with the whole family/DCIM/roll 1"
        let paths = (0..<6).map { "\(folder)/IMG_2019081\($0)_14300\($0).jpg" }
        var generator = SplitMix(seed: 7)
        for path in paths { try sandbox.write(path, bytes: (0..<300_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }) }
        try sandbox.writeLocalPipeline(concurrency: 2, fetchRate: "300KB")
        return (sandbox, paths)
    }

    /// Runs `pipeline run pipeline.yml arguments` on a pseudo-terminal `columns` wide; Ctrl-C is
    /// typed once `interruptOn` is printed.
    func runOnTerminal(_ sandbox: Sandbox, columns: Int, _ arguments: [String] = [], interruptOn: String? = nil,
                       environment: [String: String] = [:], raw: String? = nil) throws -> Screen {
        let settings = (["PIPELINE_STAGES_PATH": PipelineProcess.repositoryRoot + "/stages"].merging(environment) { $1 })
            .map { "\($0.key)=\($0.value)" }
        let interrupt = (interruptOn.map { ["--interrupt-on", $0] } ?? []) + (raw.map { ["--raw", $0] } ?? [])
        let output = try Command.output(settings + ["python3", PipelineProcess.repositoryRoot + "/Scripts/pty-screen",
                                                     "--cols", "\(columns)", "--rows", "60", "--timeout", "120"] + interrupt
                                        + ["--", PipelineProcess.binary, "run", "pipeline.yml"] + arguments, in: sandbox.root)
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] ?? [:]
        return Screen(status: object["status"] as? Int ?? -1, lines: object["lines"] as? [String] ?? [],
                      rows: object["rows"] as? [String] ?? [], snapshotRows: object["snapshot_rows"] as? [String] ?? [])
    }

    /// The summary is the last thing on the screen, and no line of the live block is left anywhere.
    func expectCleanEnd(_ screen: Screen, _ label: String, columns: Int = 120, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let rendered = screen.rows.joined(separator: "\n")
        #expect(screen.lines.last == String(SummaryText.rule.prefix(columns - 1)), "\(label): the summary is not last:\n\(rendered)", sourceLocation: sourceLocation)
        #expect(screen.lines.filter(Screen.isBlockRow).isEmpty, "\(label): a stale progress line:\n\(rendered)", sourceLocation: sourceLocation)
        #expect(screen.count("run of 'e2e' started") == 1, "\(label): the header is not there once:\n\(rendered)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [120, 48])
    func aRunEndsWithTheSummaryLastAndEachFileNamedOnce(columns: Int) throws {
        let (sandbox, paths) = try longPathSandbox()
        defer { sandbox.remove() }
        let screen = try runOnTerminal(sandbox, columns: columns)
        #expect(screen.status == 0, "\(screen.rows.joined(separator: "\n"))")
        expectCleanEnd(screen, "\(columns) columns", columns: columns)
        for path in paths {
            #expect(screen.count("completed \(path) (") == 1, "\(columns) columns: \(path) not named once")
        }
        #expect(screen.count(" started /") == 0 && screen.count(" done /") == 0, "stage transitions scrolled past without -v")
        #expect(screen.count("this run: 6 completed, 0 failed, 0 skipped") == 1)
    }

    @Test func afterCtrlCAt48ColumnsTheCountsTellCompletedFailedAndLeftApart() throws {
        let (sandbox, paths) = try longPathSandbox()
        defer { sandbox.remove() }
        let screen = try runOnTerminal(sandbox, columns: 48, interruptOn: "2 completed · ")
        let snapshot = screen.snapshotRows.joined(separator: "\n")
        #expect(screen.status == 75, "Ctrl-C stops the run early:\n\(screen.rows.joined(separator: "\n"))")
        // The live block as Ctrl-C was typed: every row fits, the file names of long paths are there.
        let block = screen.snapshotRows.filter(Screen.isBlockRow)
        #expect(block.contains { $0.hasPrefix("2 completed · 0 failed · 4 left") }, "\(snapshot)")
        #expect(block.allSatisfy { $0.count <= 47 }, "a block row fills or wraps the terminal:\n\(snapshot)")
        let inFlight = block.filter { $0.hasPrefix(" * ") }
        #expect(!inFlight.isEmpty && inFlight.allSatisfy { $0.contains("…/IMG_2019081") && $0.contains(".jpg") },
                "in-flight rows lost their file names:\n\(snapshot)")
        expectCleanEnd(screen, "after Ctrl-C", columns: 48)
        let completed = paths.filter { screen.count("completed \($0) (") == 1 }.count
        #expect(completed >= 2 && completed < 6)
        #expect(screen.count("this run: \(completed) completed, 0 failed, 0 skipped, \(6 - completed) left for the next run") == 1,
                "\(screen.lines.joined(separator: "\n"))")
    }

    @Test func quietPrintsOnlyTheSummary() throws {
        let (sandbox, _) = try longPathSandbox()
        defer { sandbox.remove() }
        let screen = try runOnTerminal(sandbox, columns: 120, ["-q"])
        #expect(screen.status == 0)
        #expect(screen.lines.first?.contains("run finished: this run: 6 completed") == true, "\(screen.lines.joined(separator: "\n"))")
        #expect(screen.lines.last == SummaryText.rule && screen.count("completed /") == 0 && screen.lines.filter(Screen.isBlockRow).isEmpty)
    }

    @Test func verboseShowsEveryStageTransition() throws {
        let (sandbox, paths) = try longPathSandbox()
        defer { sandbox.remove() }
        let screen = try runOnTerminal(sandbox, columns: 120, ["-v"])
        #expect(screen.status == 0)
        for stage in ["fetch", "verify", "upload", "cleanup"] {
            #expect(screen.count("\(stage) started \(paths[0])") == 1 && screen.count("\(stage) done \(paths[0])") == 1, "\(stage)")
        }
        expectCleanEnd(screen, "-v")
    }

    @Test func aDumbTerminalGetsThePlainLog() throws {
        let (sandbox, paths) = try longPathSandbox()
        defer { sandbox.remove() }
        let screen = try runOnTerminal(sandbox, columns: 120, environment: ["PTY_TERM": "dumb"])
        #expect(screen.status == 0)
        #expect(screen.count("Z fetch started \(paths[0])") == 1, "\(screen.lines.joined(separator: "\n"))")
        #expect(screen.lines.filter(Screen.isBlockRow).isEmpty)
    }

    @Test func failuresAreRedUnlessNoColorIsSet() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 1, sizes: 1000...1000)
        try sandbox.writeFetchPipeline(then: """
              - name: broken
                run: flaky
                with: { counter: counter, fail_times: -1, exit_status: 1 }
            """)
        for noColor in ["", "1"] {
            let raw = sandbox.root + "/raw-\(noColor)"
            let screen = try runOnTerminal(sandbox, columns: 120, environment: ["NO_COLOR": noColor], raw: raw)
            let bytes = String(decoding: try Data(contentsOf: URL(fileURLWithPath: raw)), as: UTF8.self)
            #expect(screen.count("FAILED /album0/photo 0.jpg in broken") == 1, "\(screen.lines.joined(separator: "\n"))")
            #expect(bytes.contains("\u{1B}[31m") == noColor.isEmpty, "NO_COLOR='\(noColor)'")
            #expect(bytes.contains("\u{1B}[J"), "the live block is drawn and erased with NO_COLOR='\(noColor)' too")
            try? FileManager.default.removeItem(atPath: sandbox.statePath)
        }
    }

    @Test func quietAndVerboseTogetherAreRefused() throws {
        let (sandbox, _) = try longPathSandbox()
        defer { sandbox.remove() }
        let run = try PipelineProcess.run(["run", "pipeline.yml", "-q", "-v"], in: sandbox.root)
        #expect(run.status == 64 && run.error.contains("--quiet and --verbose contradict each other"), "\(run.status) \(run.error)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.statePath))
    }
}
}
