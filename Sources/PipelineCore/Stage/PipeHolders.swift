import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The processes, other than this one, that hold a given pipe open: the leftovers of a stage that
/// inherited its stdout or stderr, even those that left its process group with `setsid`.
enum PipeHolders {
    /// The inode of the pipe behind `descriptor`, as `/proc/PID/fd` links name it (`pipe:[INODE]`).
    static func inode(of descriptor: Int32) -> UInt64? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return UInt64(info.st_ino)
    }

    /// The pids holding any of the pipes `inodes`, found by reading `/proc/*/fd`.
    static func pids(holding inodes: Set<UInt64>) -> [Int32] {
        guard !inodes.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let own = getpid()
        let names = Set(inodes.map { "pipe:[\($0)]" })
        return entries.compactMap { Int32($0) }.filter { pid in
            guard pid != own, let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return false }
            return descriptors.contains { descriptor in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)")).map(names.contains) ?? false
            }
        }
    }

    /// Kills (SIGKILL) every holder of `inodes`, again while new ones appear (a leftover forking).
    static func kill(holding inodes: Set<UInt64>) {
        for _ in 0..<5 {
            let holders = pids(holding: inodes)
            if holders.isEmpty { return }
            for pid in holders { Glibc.kill(pid, SIGKILL) }
        }
    }
}
