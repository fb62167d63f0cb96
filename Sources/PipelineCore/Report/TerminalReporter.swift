import Foundation
import Synchronization

/// A live progress display for a terminal: log lines scroll above a status block that is redrawn
/// four times a second (files done of total, bytes, rate, ETA, and each item in flight).
public final class TerminalReporter: Reporter {
    private struct Active {
        var stage: String
        var bytes: Int64 = 0
        var total: Int64?
    }

    private struct State {
        var toDo = 0
        var bytesToDo: Int64 = 0
        var finished = 0
        var bytesDone: Int64 = 0
        var active: [String: Active] = [:]
        var drawnLines = 0
        var startedAt = Date()
    }

    private let writer: LineWriter
    private let state = Mutex(State())
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    private let width: Int

    public init(writer: LineWriter, width: Int = TerminalReporter.terminalWidth()) {
        self.writer = writer
        self.width = max(40, width)
        let task = Task.detached { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                self?.redraw(logLines: [])
            }
        }
        ticker.withLock { $0 = task }
    }

    public static func terminalWidth() -> Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 100
    }

    public func report(_ event: RunEvent) {
        state.withLock { state in
            switch event {
            case .listed(_, _, let toDo, let bytes):
                state.toDo = toDo
                state.bytesToDo = bytes
                state.startedAt = Date()
            case .stageStarted(let path, let stage, _): state.active[path] = Active(stage: stage)
            case .progress(let path, let stage, let bytes, let total):
                state.active[path] = Active(stage: stage, bytes: bytes, total: total)
            case .itemCompleted(let path, let size):
                state.active[path] = nil
                state.finished += 1
                state.bytesDone += size
            case .itemFailed(let path, _, _, _, _), .itemSkipped(let path, _), .itemLeft(let path, _):
                state.active[path] = nil
                state.finished += 1
            default: break
            }
        }
        if case .progress = event { return }
        redraw(logLines: PlainReporter.lines(for: event))
    }

    public func finish() {
        ticker.withLock { $0?.cancel() }
        writer.exclusive { write in
            state.withLock { state in
                if state.drawnLines > 0 { write("\u{1B}[\(state.drawnLines)F\u{1B}[J") }
                state.drawnLines = 0
            }
        }
    }

    private func redraw(logLines: [String]) {
        writer.exclusive { write in
            state.withLock { state in
                if state.drawnLines > 0 { write("\u{1B}[\(state.drawnLines)F\u{1B}[J") }
                for line in logLines { write(line + "\n") }
                let block = statusBlock(state)
                for line in block { write(line + "\n") }
                state.drawnLines = block.count
            }
        }
    }

    private func statusBlock(_ state: State) -> [String] {
        guard state.toDo > 0 else { return [] }
        let elapsed = max(0.001, Date().timeIntervalSince(state.startedAt))
        let inFlight = state.active.values.reduce(Int64(0)) { $0 + $1.bytes }
        let rate = Double(state.bytesDone + inFlight) / elapsed
        let remaining = Double(max(0, state.bytesToDo - state.bytesDone - inFlight))
        let eta = rate > 1 ? TimeSpan(seconds: (remaining / rate).rounded()).description : "–"
        var lines = ["[\(state.finished)/\(state.toDo) files] \(ByteSize.format(state.bytesDone)) of \(ByteSize.format(state.bytesToDo)) · \(ByteSize.format(Int64(rate)))/s · ETA \(eta)"]
        for (path, item) in state.active.sorted(by: { $0.key < $1.key }).prefix(8) {
            let line = "  \(item.stage.padding(toLength: 9, withPad: " ", startingAt: 0)) \(ProgressText.fraction(item.bytes, item.total))  \(PlainReporter.displayPath(path))"
            lines.append(String(line.prefix(width - 1)))
        }
        return lines
    }
}
