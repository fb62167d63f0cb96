import Foundation
import Testing

extension EndToEnd {
@Suite("Continuous integration: the workflow and its rehearsal")
struct ContinuousIntegrationTests {
    @Test func theRehearsalFinishesThirtyFilesInThreeBudgetLimitedRunsWithNothingUploadedTwice() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PipelineProcess.repositoryRoot + "/Scripts/rehearse-ci")
        process.currentDirectoryURL = URL(fileURLWithPath: PipelineProcess.repositoryRoot)
        process.environment = ProcessInfo.processInfo.environment.merging(["PIPELINE_BIN": PipelineProcess.binary]) { _, new in new }
        // A file, not a pipe: the script's background servers inherit Foundation's descriptors, and
        // a pipe would stay open as long as any of them lives.
        let log = NSTemporaryDirectory() + "rehearse-ci-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: log, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: log) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("30 of 30 files in the emulator, uploaded twice: 0, content duplicates: 0"), "\(text)")
        // Budget-limited: the first run must have stopped early, the state carrying the rest.
        #expect(text.contains("exit status 75"), "\(text)")
    }
}
}
