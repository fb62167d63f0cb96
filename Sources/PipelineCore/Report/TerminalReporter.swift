import Foundation
import Synchronization

/// Draws a `TerminalScreen` on a terminal: lines scroll above a live block that is redrawn four
/// times a second, and erased for good when the run ends.
///
/// A redraw moves the cursor up over the lines it drew last and erases to the end of the screen;
/// the screen keeps every line narrower than the terminal, so that count is exact.
public final class TerminalReporter: Reporter {
    private struct Display {
        var screen: TerminalScreen
        var drawn: [String] = []
        var done = false
        /// The terminal's width at the last redraw (asked again at each one, not at every event).
        var columns: Int
    }

    private let writer: LineWriter
    private let display: Mutex<Display>
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    private let size: @Sendable () -> (columns: Int, rows: Int)

    /// `size` is asked before every redraw, so a resized terminal is followed.
    public init(writer: LineWriter, verbosity: Verbosity = .normal, colour: Bool = TerminalReporter.colourAllowed(),
                size: @escaping @Sendable () -> (columns: Int, rows: Int) = TerminalReporter.terminalSize) {
        self.writer = writer
        self.size = size
        let screen = TerminalScreen(verbosity: verbosity, colour: colour, utcOffset: TimeZone.current.secondsFromGMT())
        display = Mutex(Display(screen: screen, columns: size().columns))
        guard screen.isLive else { return }
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                self?.draw(above: [])
            }
        }
        ticker.withLock { $0 = task }
    }

    /// The size of the terminal on standard output (80 by 24 if it cannot be told).
    @Sendable public static func terminalSize() -> (columns: Int, rows: Int) {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 else { return (80, 24) }
        return (size.ws_col > 0 ? Int(size.ws_col) : 80, size.ws_row > 0 ? Int(size.ws_row) : 24)
    }

    /// Colour unless `NO_COLOR` is set to anything (https://no-color.org).
    public static func colourAllowed(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        (environment["NO_COLOR"] ?? "").isEmpty
    }

    public func report(_ event: RunEvent) {
        let lines = display.withLock { $0.screen.apply(event, at: Date(), width: $0.columns) }
        if !lines.isEmpty { draw(above: lines) }
    }

    public func finish() {
        ticker.withLock { $0?.cancel() }
        writer.exclusive { write in
            display.withLock { display in
                write(Self.erasing(display.drawn))
                display.drawn = []
                display.done = true
            }
        }
    }

    /// Erases the block, prints `lines`, and draws the block again (unless it is unchanged and
    /// there is nothing to print).
    private func draw(above lines: [String]) {
        let (columns, rows) = size()
        writer.exclusive { write in
            display.withLock { display in
                guard !display.done else {
                    for line in lines { write(line + "\n") }
                    return
                }
                display.columns = columns
                let block = display.screen.block(width: columns, height: rows, at: Date())
                guard !lines.isEmpty || block != display.drawn else { return }
                write(Self.erasing(display.drawn))
                for line in lines + block { write(line + "\n") }
                display.drawn = block
            }
        }
    }

    /// Back to the start of the first line of `block` (drawn just above the cursor), erasing to the end.
    static func erasing(_ block: [String]) -> String {
        block.isEmpty ? "" : "\r\u{1B}[\(block.count)A\u{1B}[J"
    }
}
