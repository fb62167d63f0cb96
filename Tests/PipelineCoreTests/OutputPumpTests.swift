import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// After a stage exits, `PipeHolders` kills whoever still holds its stdout or stderr pipe, found by
/// the pipes' inodes. Those inodes must still be ours then: a pipe closed at its end frees its
/// inode, a pipe made meanwhile for another item's stage may get it, and that stage was killed as
/// this one's leftover (under load: "write-fixed was killed by signal 9" for 3 of 1,100 items).
@Suite("A stage's output pump")
struct OutputPumpTests {
    @Test func ourEndsOfStdoutAndStderrStayOpenPastTheirEndUntilFinish() async throws {
        let pipes = try StagePipes()
        let lines = Mutex<[String]>([])
        let pump = OutputPump(pipes: pipes, input: Data(), lineLimit: 1_000, stdout: { piece in
            if case .line(let line) = piece { lines.withLock { $0.append(line) } }
        }, stderr: { _ in })
        // The "stage": writes a line without a newline to stdout, then both its ends go (it exited).
        _ = "the last words".withCString { write(pipes.stdout.write, $0, strlen($0)) }
        pipes.closeChildEnds()
        let running = Task.detached { pump.run() }
        while lines.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(5)) }
        #expect(lines.withLock { $0 } == ["the last words"], "the line without a newline is handed on at the pipe's end")
        // Past the end of both pipes, before `finish`: still ours, the same pipes. (Descriptor
        // numbers alone prove nothing: tests running alongside reuse closed ones at once.)
        try await Task.sleep(for: .milliseconds(100))
        #expect(ours(pipes.stdout.read, pipes.stderr.read) == pipes.inodes)
        pump.finish()
        await running.value
        #expect(ours(pipes.stdout.read, pipes.stderr.read).isDisjoint(with: pipes.inodes), "closed once finished")
    }

    /// The pipe inodes `descriptors` refer to now.
    func ours(_ descriptors: Int32...) -> Set<UInt64> { Set(descriptors.compactMap(PipeHolders.inode(of:))) }

    @Test func theInodesLookedForAreStdoutsAndStderrsOnly() throws {
        let pipes = try StagePipes()
        defer { pipes.closeAll() }
        let expected = Set([pipes.stdout.read, pipes.stderr.read].compactMap(PipeHolders.inode(of:)))
        #expect(pipes.inodes == expected && expected.count == 2)
        #expect(PipeHolders.inode(of: pipes.stdin.read).map(pipes.inodes.contains) == false)
    }
}
