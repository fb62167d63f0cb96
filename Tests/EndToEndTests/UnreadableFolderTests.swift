import Foundation
import Testing

extension EndToEnd {
/// A folder `local-list` cannot read (an unreadable `lost+found`) is a warning naming it; the rest
/// of the library is listed and backed up. Runs the binary as `nobody`, since root reads anything.
@Suite("An unreadable folder in a local source")
struct UnreadableFolderTests {
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func anUnreadableFolderIsAWarningNotAFailedListing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.write("/album/a.jpg", bytes: Array("photo".utf8))
        try FileManager.default.createDirectory(atPath: sandbox.source + "/lost+found", withIntermediateDirectories: true)
        try sandbox.write("/lost+found/#1234", bytes: Array("lost".utf8))
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """)
        for folder in [sandbox.root, sandbox.destination] { chmod(folder, 0o777) }
        chmod(sandbox.source + "/lost+found", 0)
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
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("/lost+found"), "the unreadable folder is named: \(text)")
        #expect(text.contains("could not be read"), "\(text)")
        #expect(FileManager.default.contents(atPath: sandbox.destination + "/album/a.jpg") == Data("photo".utf8))
    }
}
}
