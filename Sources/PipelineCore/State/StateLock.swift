import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Keeps a second `pipeline run` (or `retry`, `forget`, `import`) off a state file in use.
///
/// An advisory `flock` on `<state>.lock`, which the kernel releases when the holder dies, even by
/// `kill -9`: a crashed run never leaves a stale lock. The file records who holds it, for the message.
public final class StateLock: Sendable {
    private let descriptor: Int32
    public let path: String

    public init(statePath: String) throws {
        path = statePath + ".lock"
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw PipelineError(.io, "cannot create lock file '\(path)': \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw PipelineError(
                .stateLocked,
                "state file '\(statePath)' is in use by another pipeline run" + (holder.map { $0.isEmpty ? "" : " (\($0))" } ?? ""),
                hint: "wait for that run to finish or stop it; a run that crashed releases the lock by itself")
        }
        self.descriptor = descriptor
        let holder = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since \(UTCTimestamp.now())\n"
        ftruncate(descriptor, 0)
        _ = holder.withCString { write(descriptor, $0, strlen($0)) }
    }

    deinit {
        ftruncate(descriptor, 0)
        close(descriptor)
    }
}
