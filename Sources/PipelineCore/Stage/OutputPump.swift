import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Moves a stage's input into its stdin and its stdout and stderr out into lines, on one thread,
/// until told to `finish` (the stage has exited and its leftovers are killed): then it reads
/// what is left in the pipes without waiting for their end, and closes our ends of all three.
///
/// Our ends of stdout and stderr stay open until `finish`, even past their end: while we hold
/// them, no new pipe can get their inodes, which `PipeHolders` looks for after the stage exits.
/// Closed earlier, a pipe made meanwhile for another item's stage could take the same inode, and
/// that stage would be killed as this one's leftover.
final class OutputPump: Sendable {
    private let pipes: StagePipes
    private let input: Data
    private let lineLimit: Int
    private let stdout: @Sendable (LineSplitter.Piece) -> Void
    private let stderr: @Sendable (LineSplitter.Piece) -> Void
    private let finishing = Atomic<Bool>(false)

    init(pipes: StagePipes, input: Data, lineLimit: Int,
         stdout: @escaping @Sendable (LineSplitter.Piece) -> Void, stderr: @escaping @Sendable (LineSplitter.Piece) -> Void) {
        self.pipes = pipes
        self.input = input
        self.lineLimit = lineLimit
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The stage has exited: read what it wrote, then stop. Wakes `run` through the wake pipe
    /// (written before the flag is set: `run` closes the pipe once it has seen the flag).
    func finish() {
        var byte: UInt8 = 1
        _ = Glibc.write(pipes.wake.write, &byte, 1)
        finishing.store(true, ordering: .releasing)
    }

    /// Blocks until `finish` is called and the pipes are drained.
    func run() {
        var outputs = [
            Output(descriptor: pipes.stdout.read, splitter: LineSplitter(limit: lineLimit), handler: stdout),
            Output(descriptor: pipes.stderr.read, splitter: LineSplitter(limit: lineLimit), handler: stderr),
        ]
        var writer: Int32? = pipes.stdin.write
        var written = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        defer {
            if let writer { close(writer) }
            for index in outputs.indices { outputs[index].end() }
            close(pipes.wake.read)
            close(pipes.wake.write)
        }
        if input.isEmpty, let open = writer { close(open); writer = nil }

        while true {
            // Read after seeing `finishing`, so everything written before the exit is taken.
            let last = finishing.load(ordering: .acquiring)
            for index in outputs.indices { outputs[index].readAvailable(into: &buffer) }
            if let open = writer {
                let result = input.withUnsafeBytes { bytes in
                    Glibc.write(open, bytes.baseAddress! + written, bytes.count - written)
                }
                if result > 0 { written += result }
                if written == input.count || (result < 0 && errno != EAGAIN && errno != EINTR) {
                    close(open)
                    writer = nil
                }
            }
            if last { return }
            var polled = outputs.filter(\.isReading).map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            if let writer { polled.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)) }
            // Woken by output, room for input, or `finish` (its byte stays: every later poll returns at once).
            polled.append(pollfd(fd: pipes.wake.read, events: Int16(POLLIN), revents: 0))
            _ = poll(&polled, nfds_t(polled.count), -1)
        }
    }

    /// One output stream: its descriptor, open until the pump ends, and the lines so far.
    private struct Output {
        var descriptor: Int32
        var splitter: LineSplitter
        let handler: @Sendable (LineSplitter.Piece) -> Void
        /// Not at the pipe's end yet.
        var isReading = true
        var isOpen = true

        /// Reads until the pipe is empty (or at its end), handing on complete lines.
        mutating func readAvailable(into buffer: inout [UInt8]) {
            while isReading {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    for piece in splitter.feed(buffer[0..<count]) { handler(piece) }
                } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                    reachedEnd()
                } else if errno == EAGAIN {
                    return
                }
            }
        }

        /// The pipe's end: hands on the last line, once; the descriptor stays open (see the type).
        mutating func reachedEnd() {
            guard isReading else { return }
            isReading = false
            for piece in splitter.finish() { handler(piece) }
        }

        /// Closes the descriptor, once, after handing on the last line.
        mutating func end() {
            reachedEnd()
            guard isOpen else { return }
            isOpen = false
            close(descriptor)
        }
    }
}
