import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An external executable run to completion, with its input on stdin, its output read line by
/// line, and a known way to end: on a stop it gets SIGTERM, then `grace`, then SIGKILL, and its
/// whole process group with it (Foundation's `Process` starts each child in a group of its own).
final class ChildProcess: Sendable {
    struct Exit: Sendable, Equatable {
        /// The exit status, or nil when a signal ended it.
        var status: Int32?
        var signal: Int32?
        /// Why we ended it, if we did.
        var stoppedBecause: StopSignal.Reason?
    }

    let executable: String
    let arguments: [String]
    let workingDirectory: String?

    init(executable: String, arguments: [String] = [], workingDirectory: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.workingDirectory = workingDirectory
    }

    /// Runs the process; calls `started` with its pid once running, and the line handlers as output arrives.
    func run(
        input: Data,
        stop: StopSignal,
        grace: TimeSpan,
        started: @escaping @Sendable (Int32) async -> Void,
        stdoutLine: @escaping @Sendable (String) -> Void,
        stderrLine: @escaping @Sendable (String) -> Void
    ) async throws -> Exit {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr

        let exited = ExitLatch()
        process.terminationHandler = { ended in
            exited.finish(status: ended.terminationReason == .exit ? ended.terminationStatus : nil,
                          signal: ended.terminationReason == .uncaughtSignal ? ended.terminationStatus : nil)
        }
        do {
            try await Self.spawnWithDefaultSignals(process)
        } catch {
            throw StageFailure.permanent("cannot start '\(executable)': \(error.localizedDescription)")
        }
        let pid = process.processIdentifier
        await started(pid)

        let writer = stdin.fileHandleForWriting
        let readers = [
            Self.readLines(stdout.fileHandleForReading, handler: stdoutLine),
            Self.readLines(stderr.fileHandleForReading, handler: stderrLine),
        ]
        // A stage that does not read its input must neither block us nor kill us with SIGPIPE.
        BrokenPipeGuard.install()
        Thread {
            try? writer.write(contentsOf: input)
            try? writer.close()
        }.start()

        var stoppedBecause: StopSignal.Reason?
        var termSentAt: ContinuousClock.Instant?
        while !exited.isFinished {
            if let reason = stop.reason, stoppedBecause == nil {
                stoppedBecause = reason
                kill(-pid, SIGTERM)
                termSentAt = .now
            }
            if let termSentAt, ContinuousClock.now - termSentAt > grace.duration {
                kill(-pid, SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Anything the stage left running in its group goes with it, so the pipes close.
        kill(-pid, SIGKILL)
        for reader in readers { await reader.value }
        var exit = exited.result
        exit.stoppedBecause = stoppedBecause
        return exit
    }

    /// Starts `process` from a thread whose signal mask is empty. A child inherits its spawner's
    /// mask, and the executor's threads block signals: spawned from one of them, a stage would
    /// never see the SIGTERM of the teardown ladder.
    private static func spawnWithDefaultSignals(_ process: Process) async throws {
        try await Blocking.run {
            var nothing = sigset_t()
            sigemptyset(&nothing)
            pthread_sigmask(SIG_SETMASK, &nothing, nil)
            try process.run()
        }
    }

    private static func readLines(_ handle: FileHandle, handler: @escaping @Sendable (String) -> Void) -> Task<Void, Never> {
        Task.detached {
            _ = try? await Blocking.run {
                var pending = Data()
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        handler(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                if !pending.isEmpty { handler(String(decoding: pending, as: UTF8.self)) }
            }
        }
    }

    /// The start time of a process (from /proc), so a recorded pid is not confused with a new
    /// process that reuses the number.
    static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.range(of: ")", options: .backwards)
        else { return nil }
        let fields = stat[afterName.upperBound...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }

    /// Kills the process group of an external stage left running by a run that was killed.
    /// Returns true when there was one.
    @discardableResult
    static func reapOrphan(pid: Int32, startTime: String) -> Bool {
        guard pid > 1, Self.startTime(of: pid) == startTime else { return false }
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        return true
    }
}

/// Set once by the termination handler, read by the waiting loop.
private final class ExitLatch: Sendable {
    private let state = Mutex<ChildProcess.Exit?>(nil)

    func finish(status: Int32?, signal: Int32?) {
        state.withLock { $0 = ChildProcess.Exit(status: status, signal: signal) }
    }

    var isFinished: Bool { state.withLock { $0 != nil } }
    var result: ChildProcess.Exit { state.withLock { $0 } ?? ChildProcess.Exit(status: nil, signal: nil) }
}
