import Foundation
import Testing

extension EndToEnd {
@Suite("Continuous integration: the workflow and its rehearsal")
struct ContinuousIntegrationTests {
    @Test func theRehearsalFinishesThirtyFilesInBudgetLimitedRunsWithNothingUploadedTwice() throws {
        let (status, text) = try rehearse([])
        #expect(status == 0, "\(text)")
        #expect(text.contains("30 of 30 files in the emulator, uploaded twice: 0, content duplicates: 0"), "\(text)")
        // Budget-limited: the first run must have stopped early, the state carrying the rest.
        #expect(text.contains("exit status 75"), "\(text)")
    }

    /// The workflow's own steps against GitHub's artifact API stand-in: an API outage fails the job
    /// with the state untouched, foreign and expired artifacts are passed over, a cancel drains the
    /// pipeline and the next run finishes, given-up items turn the run red until `retry`, pruning;
    /// the matrix workflow's runners on one PostgreSQL state, one killed mid-transfer.
    @Test func everyRehearsedScenarioOfTheWorkflowPasses() throws {
        let (status, text) = try rehearse(["--scenario", "all"])
        #expect(status == 0, "\(text)")
        for scenario in ["resume", "action-resume", "api-failure", "selection", "cancel", "orphan", "given-up", "prune", "matrix"] {
            #expect(text.contains("rehearse-ci: PASS \(scenario)"), "\(scenario): \(text)")
        }
    }

    private func rehearse(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: PipelineProcess.repositoryRoot + "/Scripts/rehearse-ci")
        process.arguments = arguments
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
        return (process.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }
}
}
