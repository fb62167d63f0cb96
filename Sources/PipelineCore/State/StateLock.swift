import Foundation
import Synchronization
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
    public let statePath: String
    /// The state file itself, locked too: a second name for it (a hard link) has another `.lock`
    /// file but the same inode. Also how a state deleted or replaced during a run is noticed.
    private let stateFile = Mutex<(descriptor: Int32, device: UInt64, inode: UInt64)?>(nil)

    public init(statePath: String) throws {
        self.statePath = statePath
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

    /// Locks the state file itself (once it exists); refuses when another run holds it through
    /// another name.
    public func holdStateFile() throws {
        let file = open(statePath, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { throw PipelineError(.io, "cannot open the state file '\(statePath)': \(String(cString: strerror(errno)))") }
        guard flock(file, LOCK_EX | LOCK_NB) == 0 else {
            close(file)
            throw PipelineError(.stateLocked, "state file '\(statePath)' is in use by another pipeline run, under another name (a hard link)",
                                hint: "wait for that run to finish or stop it; one state, one name")
        }
        var status = stat()
        fstat(file, &status)
        stateFile.withLock { $0 = (file, UInt64(status.st_dev), UInt64(status.st_ino)) }
    }

    /// False when the state's path no longer names the file this run writes (deleted, replaced).
    public var stateFileIsInPlace: Bool {
        guard let held = stateFile.withLock({ $0 }) else { return true }
        var status = stat()
        return stat(statePath, &status) == 0 && UInt64(status.st_dev) == held.device && UInt64(status.st_ino) == held.inode
    }

    deinit {
        if let held = stateFile.withLock({ $0 }) { close(held.descriptor) }
        ftruncate(descriptor, 0)
        close(descriptor)
    }
}
