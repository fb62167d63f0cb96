import Foundation
import Testing
@testable import PipelineCore

/// An external stage's process ends in a known way, each step awaited rather than looked at every
/// few milliseconds: its exit is awaited raced against the stop; on a stop it gets SIGTERM, then
/// `grace`, then SIGKILL.
@Suite("A child process's teardown", .timeLimit(.minutes(1)))
struct ChildProcessTeardownTests {
    /// An executable script in a fresh folder.
    func script(_ body: String) throws -> String {
        let folder = NSTemporaryDirectory() + "child-process-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/stage"
        try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return path
    }

    /// Runs `executable`; once it printed "ready", stops `stop` with `reason` (or times it out).
    func runStopped(_ executable: String, grace: TimeSpan, timeout: StageTimeout? = nil) async throws -> ChildProcess.Exit {
        let stop = StopSignal(parent: StopSignal())
        let ready = Latch()
        async let exit = ChildProcess(executable: executable).run(
            input: Data(), stop: stop, grace: grace, started: { _ in },
            stdout: { piece in if case .line("ready") = piece { ready.open() } }, stderr: { _ in })
        await ready.opened()
        if let timeout { stop.timeOut(timeout) } else { stop.stop(.runStopping) }
        return try await exit
    }

    @Test func aProcessThatEndsOnSIGTERMEndsByIt() async throws {
        let exit = try await runStopped(try script("echo ready\nexec sleep 300"), grace: TimeSpan(milliseconds: 60_000))
        #expect(exit.signal == SIGTERM && exit.status == nil && exit.stoppedBecause == .runStopping)
    }

    @Test func aProcessThatIgnoresSIGTERMIsKilledAfterItsGrace() async throws {
        let exit = try await runStopped(try script("trap '' TERM\necho ready\nwhile :; do sleep 1; done"), grace: TimeSpan(milliseconds: 200),
                                        timeout: StageTimeout(stage: "inspect", limit: TimeSpan(milliseconds: 1_000)))
        #expect(exit.signal == SIGKILL && exit.stoppedBecause == .timedOut)
    }

    @Test func aProcessThatExitsByItselfIsNotStopped() async throws {
        let exit = try await ChildProcess(executable: try script("exit 3")).run(
            input: Data(), stop: StopSignal(), grace: TimeSpan(milliseconds: 1_000), started: { _ in }, stdout: { _ in }, stderr: { _ in })
        #expect(exit == ChildProcess.Exit(status: 3, signal: nil, stoppedBecause: nil))
    }
}
