#if canImport(Glibc)
import Glibc
#endif

/// The three pipes of a stage's stdin, stdout and stderr, and a fourth of our own that wakes
/// `OutputPump` when the stage has exited. Every end is close-on-exec, so a stage started at the
/// same time for another item never inherits them; the child's ends reach the child through `dup2`
/// only. Our ends are non-blocking, for `OutputPump`.
struct StagePipes: Sendable {
    struct Ends: Sendable {
        var read: Int32
        var write: Int32
    }

    let stdin: Ends
    let stdout: Ends
    let stderr: Ends
    /// Never the child's: `OutputPump.finish` writes a byte into it, which its `poll` wakes for.
    let wake: Ends
    /// The inodes of the stdout and stderr pipes, to find whoever else holds them after the stage
    /// exited (`PipeHolders`): a leftover that inherited them. Not stdin's: our end of it is closed
    /// once the input is written, and a pipe made later may reuse a freed inode.
    let inodes: Set<UInt64>

    /// Call while holding `ChildProcess`'s spawn lock.
    init() throws {
        var made: [Ends] = []
        for _ in 0..<4 {
            var descriptors: [Int32] = [-1, -1]
            // pipe2 is not in Swift's Glibc: close-on-exec is set right after, while `ChildProcess`
            // holds its spawn lock, so no spawn can happen in between.
            guard pipe(&descriptors) == 0 else {
                let code = errno
                for ends in made { close(ends.read); close(ends.write) }
                throw StageFailure.retryable("cannot make the pipes for a stage: \(String(cString: strerror(code)))")
            }
            for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            made.append(Ends(read: descriptors[0], write: descriptors[1]))
        }
        (stdin, stdout, stderr, wake) = (made[0], made[1], made[2], made[3])
        for descriptor in [stdin.write, stdout.read, stderr.read, wake.read, wake.write] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }
        inodes = Set([stdout, stderr].compactMap { PipeHolders.inode(of: $0.read) })
    }

    /// After the spawn: only the child holds these now.
    func closeChildEnds() {
        close(stdin.read)
        close(stdout.write)
        close(stderr.write)
    }

    /// When the spawn failed.
    func closeAll() {
        for ends in [stdin, stdout, stderr, wake] { close(ends.read); close(ends.write) }
    }
}
