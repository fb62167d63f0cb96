import Foundation
import Testing

extension EndToEnd {
/// A folder `local-list` cannot read (an unreadable `lost+found`) is a warning naming it; the rest
/// of the library is listed and backed up. One the source excludes is not entered at all. Runs the
/// binary as `nobody`, since root reads anything.
@Suite("An unreadable folder in a local source")
struct UnreadableFolderTests {
    /// A library of `/album/a.jpg` and an unreadable `/lost+found/#1234`, with `exclude` if given.
    func library(exclude: String? = nil) throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.write("/album/a.jpg", bytes: Array("photo".utf8))
        try FileManager.default.createDirectory(atPath: sandbox.source + "/lost+found", withIntermediateDirectories: true)
        try sandbox.write("/lost+found/#1234", bytes: Array("lost".utf8))
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """, sourceKeys: exclude.map { "exclude: [\"\($0)\"]" } ?? "")
        for folder in [sandbox.root, sandbox.destination] { chmod(folder, 0o777) }
        chmod(sandbox.source + "/lost+found", 0)
        return sandbox
    }

    /// `pipeline run` as user `nobody`: its exit status and everything it printed.
    func runAsNobody(_ sandbox: Sandbox) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", PipelineProcess.binary, "run", "pipeline.yml"]
        process.currentDirectoryURL = URL(fileURLWithPath: sandbox.root)
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func anUnreadableFolderIsAWarningNotAFailedListing() throws {
        let sandbox = try library()
        defer { sandbox.remove() }
        let (status, text) = try runAsNobody(sandbox)
        #expect(status == 0, "\(text)")
        #expect(text.contains("/lost+found"), "the unreadable folder is named: \(text)")
        #expect(text.contains("could not be read"), "\(text)")
        #expect(FileManager.default.contents(atPath: sandbox.destination + "/album/a.jpg") == Data("photo".utf8))
    }

    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func anExcludedFolderIsNotEntered() throws {
        let sandbox = try library(exclude: "lost+found")
        defer { sandbox.remove() }
        let (status, text) = try runAsNobody(sandbox)
        #expect(status == 0, "\(text)")
        #expect(!text.contains("could not be read") && !text.contains("warning"), "an excluded folder is no warning: \(text)")
        #expect(FileManager.default.contents(atPath: sandbox.destination + "/album/a.jpg") == Data("photo".utf8))
    }
}
}
