import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An external executable run to completion, with its input on stdin, its output read line by
/// line, and a known way to end: on a stop it gets SIGTERM, then `grace`, then SIGKILL, and its
/// whole process group with it (it is started in a group of its own).
///
/// The exit of the process is what ends a run, not the end of its output: once it has exited,
/// what it wrote is read, and anything it left behind — in its group, or anywhere still holding
/// its pipes (a `setsid` child) — is killed. Every descriptor opened for it is closed by then.
final class ChildProcess: Sendable {
    struct Exit: Sendable, Equatable {
        /// The exit status, or nil when a signal ended it.
        var status: Int32?
        var signal: Int32?
        /// Why we ended it, if we did.
        var stoppedBecause: StopSignal.Reason?
    }

    let executable: String
    let lineLimit: Int

    init(executable: String, lineLimit: Int = LineSplitter.standardLimit) {
        self.executable = executable
        self.lineLimit = lineLimit
    }

    /// Runs the process; calls `started` with its pid once running, and the handlers as output arrives.
    func run(
        input: Data,
        stop: StopSignal,
        grace: TimeSpan,
        started: @escaping @Sendable (Int32) async -> Void,
        stdout: @escaping @Sendable (LineSplitter.Piece) -> Void,
        stderr: @escaping @Sendable (LineSplitter.Piece) -> Void
    ) async throws -> Exit {
        // A stage that does not read its input must not kill us with SIGPIPE.
        BrokenPipeGuard.install()
        let (pipes, pid) = try Self.spawning.withLock { _ in
            let pipes = try StagePipes()
            do {
                let pid = try Self.spawn(executable, pipes: pipes)
                pipes.closeChildEnds()
                return (pipes, pid)
            } catch {
                pipes.closeAll()
                throw error
            }
        }
        let pump = OutputPump(pipes: pipes, input: input, lineLimit: lineLimit, stdout: stdout, stderr: stderr)
        let pumping = Task.detached { _ = try? await Blocking.run { pump.run() } }
        let exited = Latch()
        Thread {
            // Waits without reaping, so the pid (and the group id) stay ours until the group is killed.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
            exited.open()
        }.start()
        await started(pid)

        // The exit, or a stop first: then the teardown steps, SIGTERM, `grace` (the stage's own
        // wall time), SIGKILL, each awaited.
        var stoppedBecause: StopSignal.Reason?
        let stoppedFirst = await Race.first {
            await exited.opened()
            return false
        } or: {
            await stop.stopped()
            return !Task.isCancelled
        }
        if stoppedFirst, !exited.isOpen {
            stoppedBecause = stop.reason
            kill(-pid, SIGTERM)
            if await !exited.opened(within: grace.duration, on: SystemRunClock()) {
                kill(-pid, SIGKILL)
            }
        }
        await exited.opened()
        // Anything the stage left running goes with it: its group, and whatever holds its pipes.
        // Not while another stage is being started: until its exec, that child holds every
        // descriptor of ours, these pipes too, and would be taken for a leftover.
        kill(-pid, SIGKILL)
        Self.spawning.withLock { _ in PipeHolders.kill(holding: pipes.inodes) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        pump.finish()
        await pumping.value
        var exit = Self.exit(fromWaitStatus: status)
        exit.stoppedBecause = stoppedBecause
        return exit
    }

    /// Held while a stage's pipes are made and it is started, so no other stage starts holding them,
    /// and while an ended stage's leftovers are looked for (a child between spawn and exec holds
    /// all of our descriptors).
    private static let spawning = Mutex<Void>(())

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; Swift's Glibc module does not declare it).
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    nonisolated(unsafe) private static let addCloseFrom: AddCloseFrom? =
        dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// The exit status or signal a `waitpid` status holds.
    static func exit(fromWaitStatus status: Int32) -> Exit {
        let signal = status & 0x7f
        return signal == 0 ? Exit(status: (status >> 8) & 0xff, signal: nil) : Exit(status: nil, signal: signal)
    }

    /// Starts `executable` in a process group of its own, its stdio on `pipes`, every signal at its
    /// default and none blocked (the executor's threads block signals, and a child inherits that:
    /// the stage would never see the SIGTERM of the teardown ladder).
    private static func spawn(_ executable: String, pipes: StagePipes) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipes.stdin.read, 0)
        posix_spawn_file_actions_adddup2(&actions, pipes.stdout.write, 1)
        posix_spawn_file_actions_adddup2(&actions, pipes.stderr.write, 2)
        // Nothing else of ours reaches the stage: a descriptor opened without close-on-exec (our
        // own stdout's duplicate, say) would keep whoever reads our output waiting for the stage.
        _ = Self.addCloseFrom?(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        defer { for argument in argv { free(argument) } }
        let code = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard code == 0 else {
            let message = SpawnFailure.message(code: code, executable: executable)
            throw SpawnFailure.isTransient(code: code) ? StageFailure.retryable(message) : StageFailure.permanent(message)
        }
        return pid
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
