import Foundation
import Synchronization
import Testing

extension EndToEnd {
/// A source file rewritten while `local-fetch` copies it is copied again, never recorded as a mix
/// of its two versions; one that keeps changing fails, saying so.
@Suite("A source changing during its copy")
struct SourceChangingDuringCopyTests {
    static let size = 8 << 20

    static func bytes(seed: UInt64) -> [UInt8] {
        var generator = SplitMix(seed: seed)
        return (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// Rewrites `path` in place (same size, no truncation), as an editor saving over it would.
    static func overwrite(_ path: String, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }

    func writePipeline(_ sandbox: Sandbox) throws {
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """, fetchWith: "root: src, rate_limit: 2MB")
        // Retries without waiting, so the test is quick.
        let text = try String(contentsOfFile: sandbox.pipelineFile, encoding: .utf8)
            .replacingOccurrences(of: "uses: local-fetch", with: "uses: local-fetch\n    retry: { attempts: 3, backoff: [0s] }")
        try sandbox.writePipeline(text)
    }

    @Test func aFileOverwrittenMidCopyIsCopiedAgainWhole() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.write("/movie.mkv", bytes: Self.bytes(seed: 1))
        try writePipeline(sandbox)
        // Made before the run: making 8 MiB takes seconds in a debug build, time in which the copy could end.
        let second = Self.bytes(seed: 2)
        let process = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        let copying = process.waitForEvents { $0.event("progress", stage: "fetch") && ($0["bytes"] as? Double ?? 0) > 0 }
        #expect(copying, "the copy was seen under way")
        try Self.overwrite(sandbox.source + "/movie.mkv", with: second)
        let status = process.wait(timeout: 120)
        #expect(status == 0, "\(process.lines.joined(separator: "\n"))\n\(process.stderr)")
        #expect(process.events.contains { $0.event("stage_retrying", stage: "fetch") && ($0["error"] as? String ?? "").contains("changed while it was copied") },
                "the changed source was noticed: \(process.lines.joined(separator: "\n"))")
        #expect(FileManager.default.contents(atPath: sandbox.destination + "/movie.mkv") == Data(second),
                "the backup is the new version, whole")
    }

    @Test func aFileThatKeepsChangingFailsSayingSo() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let path = sandbox.source + "/busy.log"
        try sandbox.write("/busy.log", bytes: Self.bytes(seed: 3))
        try writePipeline(sandbox)
        let process = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        // Rewrites the first bytes every 50 ms until the run ends.
        let writer = Thread {
            var round: UInt8 = 0
            while process.isRunning {
                round &+= 1
                if let handle = FileHandle(forWritingAtPath: path) {
                    try? handle.write(contentsOf: Data(repeating: round, count: 4096))
                    try? handle.close()
                }
                usleep(50_000)
            }
        }
        writer.start()
        let status = process.wait(timeout: 120)
        #expect(status == 1, "\(process.lines.joined(separator: "\n"))\n\(process.stderr)")
        let item = try sandbox.statusItems()["/busy.log"]
        #expect(item?["status"] as? String == "failed")
        #expect((item?["last_error"] as? String ?? "").contains("changed while it was copied"), "\(item ?? [:])")
        #expect(!FileManager.default.fileExists(atPath: sandbox.destination + "/busy.log"), "nothing was backed up")
    }
    @Test func aRemoteFileOverwrittenMidDownloadIsDownloadedAgainWhole() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let ftp = FTPTests()
        let server = try ftp.serve(sandbox)
        let remote = sandbox.root + "/remote/movie.mkv"
        try Data(Self.bytes(seed: 4)).write(to: URL(fileURLWithPath: remote))
        // An hour old, so the rewrite's time differs to the second (MDTM's resolution).
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3600)], ofItemAtPath: remote)
        try ftp.writeFTPPipeline(sandbox, server: server, fetch: ", rate_limit: 2MB", verifyAndUpload: true)
        // Made before the run: making 8 MiB takes seconds in a debug build, time in which the download could end.
        let second = Self.bytes(seed: 5)
        let process = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: FTPTests.environment)
        #expect(process.waitForEvents { $0.event("progress", stage: "fetch") && ($0["bytes"] as? Double ?? 0) > 0 }, "the download was seen under way")
        try Self.overwrite(remote, with: second)
        let status = process.wait(timeout: 120)
        #expect(status == 0, "\(process.lines.joined(separator: "\n"))\n\(process.stderr)")
        #expect(process.events.contains { $0.event("stage_retrying", stage: "fetch") && ($0["error"] as? String ?? "").contains("while it was copied") },
                "the changed remote was noticed: \(process.lines.joined(separator: "\n"))")
        #expect(FileManager.default.contents(atPath: sandbox.destination + "/movie.mkv") == Data(second), "the backup is the new version, whole")
    }
}
}
