import Foundation
import Testing

extension EndToEnd {
/// What an external stage prints, and what it is, cannot hang, truncate or leak: overlong lines,
/// a script without `#!`, a directory as `run:`, a NUL byte in a listed path, a multi-line secret.
@Suite("External stages' output and executables")
struct ExternalStageOutputTests {
    /// A pipeline of one listed item and one stage `./stage.sh` running `body`.
    func writePipeline(_ sandbox: Sandbox, body: String, shebang: String = "#!/bin/sh\n", with: String = "{}",
                       listing: [[String: Any]] = [["path": "/a.jpg", "size": 1]]) throws {
        let script = sandbox.root + "/stage.sh"
        try (shebang + "cat > /dev/null\n" + body + "\n").write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        try sandbox.writeListedPipeline(listing: listing, fetch: """
              - name: work
                run: ./stage.sh
                with: \(with)
                retry: { attempts: 1 }
            """)
    }

    static let ok = #"echo '{"type":"result","status":"ok"}'"#
    /// 16 MiB of carriage returns and no newline, as a progress bar without one writes.
    static let sixteenMiBOfCarriageReturns = #"head -c 16777216 /dev/zero | tr '\000' '\r'"#

    func run(_ sandbox: Sandbox, environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root, environment: environment, timeout: 120)
    }

    @Test func sixteenMiBOnStderrWithoutANewlineIsDroppedWithAWarningAndTheItemCompletes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, body: Self.sixteenMiBOfCarriageReturns + " >&2\n" + Self.ok)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error.suffix(2000))")
        #expect(result.error.contains("longer than 1 MiB") || result.output.contains("longer than 1 MiB"), "\(result.error.suffix(2000))")
        #expect(try sandbox.statusItems()["/a.jpg"]?["status"] as? String == "completed")
    }

    @Test func sixteenMiBOnStdoutWithoutANewlineFailsTheAttemptSayingWhy() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, body: Self.sixteenMiBOfCarriageReturns + "\n" + Self.ok)
        let result = try run(sandbox)
        #expect(result.status == 1, "\(result.error.suffix(2000))")
        let error = try sandbox.statusItems()["/a.jpg"]?["last_error"] as? String
        #expect(error?.contains("longer than 1 MiB") == true, "\(String(describing: error))")
    }

    @Test func aScriptWithoutAShebangLineIsNamedWithWhatToDo() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, body: Self.ok, shebang: "")
        let result = try run(sandbox)
        #expect(result.status == 1)
        let error = try sandbox.statusItems()["/a.jpg"]?["last_error"] as? String ?? ""
        #expect(error.contains("stage.sh") && error.contains("#!"), "\(error)")
        #expect(!error.contains("NSCocoaErrorDomain"), "\(error)")
    }

    @Test func aDirectoryAsRunIsRefusedAtItsPlace() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, body: Self.ok)
        try FileManager.default.createDirectory(atPath: sandbox.root + "/tools", withIntermediateDirectories: true)
        try String(contentsOfFile: sandbox.pipelineFile, encoding: .utf8).replacingOccurrences(of: "run: ./stage.sh", with: "run: ./tools")
            .write(toFile: sandbox.pipelineFile, atomically: true, encoding: .utf8)
        let result = try PipelineProcess.run(["validate", "pipeline.yml"], in: sandbox.root)
        #expect(result.status == 78, "\(result.error)")
        #expect(result.error.contains("pipeline.yml:9:") && result.error.contains("is a directory"), "\(result.error)")
    }

    /// A listing that cannot be taken as it is fails, naming the line: never a truncated path, and
    /// never an entry silently dropped (the state is not changed).
    @Test func aListedPathWithANulByteFailsTheListingNamingItAndIsNeverTruncated() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, body: Self.ok, listing: [["path": "/good.jpg", "size": 1], ["path": "/bad\u{0}.jpg", "size": 1]])
        let result = try run(sandbox)
        #expect(result.status == 69, "\(result.output)\n\(result.error)")
        #expect(result.error.contains("/bad\\0.jpg") && result.error.contains("NUL"), "\(result.error)")
        let recorded = FileManager.default.fileExists(atPath: sandbox.statePath) ? try sandbox.statusItems() : [:]
        #expect(recorded["/bad"] == nil && recorded.count <= 1, "\(recorded.keys)")
    }

    @Test func everyLineOfAMultiLineSecretIsMaskedOnStderr() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try writePipeline(sandbox, body: """
            echo "first: topsecret-line-one" >&2
            echo "topsecret-line-two" >&2
            \(Self.ok)
            """, with: #"{ token: "${STAGE_TOKEN}" }"#)
        let result = try run(sandbox, environment: ["STAGE_TOKEN": "topsecret-line-one\ntopsecret-line-two"])
        #expect(result.status == 0, "\(result.error)")
        let everything = result.output + result.error + ((try? String(contentsOfFile: sandbox.statePath, encoding: .isoLatin1)) ?? "")
        #expect(!everything.contains("topsecret-line-one") && !everything.contains("topsecret-line-two"), "\(result.error)")
    }
}
}
