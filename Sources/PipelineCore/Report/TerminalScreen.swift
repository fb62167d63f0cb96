import Foundation

/// What a terminal shows of a run, decided without drawing: the lines that scroll past and the live
/// block under them (overall bytes, rate, ETA, items completed / failed / left, the items in flight).
///
/// `TerminalReporter` feeds it events and a clock and draws what it returns; tests do the same with
/// a made-up clock.
public struct TerminalScreen: Sendable {
    /// The most items in flight listed one per line; the rest are counted.
    public static let inFlightShown = 10

    private struct InFlight: Sendable {
        var path: String
        var stage: String
        var bytes: Int64 = 0
        var total: Int64?
    }

    public let verbosity: Verbosity
    /// Whether errors and warnings are coloured (off with `NO_COLOR`).
    public let colour: Bool
    /// Seconds east of UTC, for the time of day in front of each line.
    public let utcOffset: Int

    private var startedAt: Date?
    private var listedAt: Date?
    private var toDo = 0
    private var bytesToDo: Int64 = 0
    private var completed = 0
    private var failed = 0
    /// Items skipped after the listing (part of `toDo`), and all items skipped.
    private var skippedOfListed = 0
    private var skipped = 0
    private var bytesCompleted: Int64 = 0
    private var inFlight: [InFlight] = []
    /// The most bytes any stage of an item in flight reported: its share of the bytes done.
    private var reached: [String: Int64] = [:]
    private var stopping = false
    private var finished = false

    public init(verbosity: Verbosity, colour: Bool, utcOffset: Int = 0) {
        self.verbosity = verbosity
        self.colour = colour
        self.utcOffset = utcOffset
    }

    /// Whether there is a live block to draw at all (not with `-q`).
    public var isLive: Bool { verbosity != .quiet }

    /// Takes in an event that happened at `now`; returns the lines to print above the live block on
    /// a terminal `width` columns wide (only the summary's rules are fitted to it; other lines may wrap).
    public mutating func apply(_ event: RunEvent, at now: Date, width: Int = Int.max) -> [String] {
        record(event, at: now)
        guard verbosity.shows(event.level, live: isLive) else { return [] }
        let time = Self.timeOfDay(now, utcOffset: utcOffset)
        let text: [String]
        if case .runStarted(let pipeline, let summary, _) = event {
            text = ["\(time) run of '\(DisplayColumns.printable(pipeline))' started; \(Self.stateText(summary))"]
        } else {
            text = PlainReporter.lines(for: event, time: time)
        }
        let rule = String(SummaryText.rule.prefix(max(1, width - 1)))
        let rows = text.flatMap { $0.split(separator: "\n", omittingEmptySubsequences: false) }
            .map { $0 == SummaryText.rule ? rule : DisplayColumns.printable(String($0)) }
        guard colour, let code = Self.colourCode(event) else { return rows }
        return rows.map { "\u{1B}[\(code)m\($0)\u{1B}[0m" }
    }

    /// The live block for a terminal `width` columns wide and `height` rows high at `now`: each line
    /// at most `width - 1` columns, so none wraps, and fewer lines than `height`, so the cursor can
    /// reach the first of them again. Empty before the run starts, after it finished, and with `-q`.
    public func block(width: Int, height: Int = Int.max, at now: Date) -> [String] {
        guard isLive, !finished, let startedAt else { return [] }
        let columns = max(1, width - 1)
        guard let listedAt else {
            return [DisplayColumns.cut("Listing the source… · \(Self.span(now.timeIntervalSince(startedAt))) elapsed", to: columns)]
        }
        let elapsed = max(0, now.timeIntervalSince(listedAt))
        let done = bytesCompleted + reached.values.reduce(0, +)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = Double(max(0, bytesToDo - done))
        let eta = rate >= 1 && done > 0 ? Self.span(remaining / rate) : "–"
        let percent = bytesToDo > 0 ? " (\(min(100, Int(Double(done) * 100 / Double(bytesToDo))))%)" : ""
        let left = max(0, toDo - completed - failed - skippedOfListed)
        var counts = ["\(completed) completed", "\(failed) failed", "\(left) left"]
        if skipped > 0 { counts.append("\(skipped) skipped") }
        var lines = [
            "\(stopping ? "Stopping · " : "")\(ByteSize.format(done)) of \(ByteSize.format(bytesToDo))\(percent) · \(ByteSize.format(Int64(rate)))/s · ETA \(eta)",
            counts.joined(separator: " · ") + " · \(Self.span(elapsed)) elapsed",
        ].map { DisplayColumns.cut($0, to: columns) }
        // Two lines of totals, the items, a line for the rest, and the row the cursor rests on.
        let shown = inFlight.count <= min(Self.inFlightShown, height - 3) ? inFlight.count : max(0, min(Self.inFlightShown, height - 4))
        let stageWidth = min(10, inFlight.prefix(shown).map { DisplayColumns.width(of: $0.stage) }.max() ?? 0)
        for item in inFlight.prefix(shown) {
            lines.append(Self.itemLine(item, stageWidth: stageWidth, columns: columns))
        }
        if inFlight.count > shown {
            lines.append(DisplayColumns.cut(" … and \(inFlight.count - shown) more in flight", to: columns))
        }
        return Array(lines.prefix(max(1, height - 1)))
    }

    // MARK: Counting

    private mutating func record(_ event: RunEvent, at now: Date) {
        switch event {
        case .runStarted: startedAt = now
        case .listed(_, _, let toDo, let bytes):
            self.toDo = toDo
            bytesToDo = bytes
            listedAt = now
        case .stageStarted(let path, let stage, _):
            update(path) { $0.stage = stage; $0.bytes = 0; $0.total = nil }
        case .progress(let path, let stage, let bytes, let total):
            update(path) { $0.stage = stage; $0.bytes = bytes; $0.total = total }
            reached[path] = max(reached[path] ?? 0, total.map { min(bytes, $0) } ?? bytes)
        case .itemCompleted(let path, let size):
            end(path)
            completed += 1
            bytesCompleted += size
        case .itemFailed(let path, _, _, _, _):
            end(path)
            failed += 1
        case .itemSkipped(let path, _):
            end(path)
            skipped += 1
            if listedAt != nil { skippedOfListed += 1 }
        case .itemLeft(let path, _): end(path)
        case .stopping: stopping = true
        case .runFinished: finished = true
        default: break
        }
    }

    private mutating func update(_ path: String, _ change: (inout InFlight) -> Void) {
        if let index = inFlight.firstIndex(where: { $0.path == path }) {
            change(&inFlight[index])
        } else {
            var item = InFlight(path: path, stage: "")
            change(&item)
            inFlight.append(item)
        }
    }

    private mutating func end(_ path: String) {
        inFlight.removeAll { $0.path == path }
        reached[path] = nil
    }

    // MARK: Text

    /// " * fetch   /photos/…/IMG_0001.jpg  40% of 3.00 MB": the path gets what the stage and progress
    /// leave; the progress shrinks to a percentage before the file name is cut.
    private static func itemLine(_ item: InFlight, stageWidth: Int, columns: Int) -> String {
        let stage = DisplayColumns.cut(DisplayColumns.printable(item.stage), to: stageWidth)
        let head = " * " + stage + String(repeating: " ", count: max(0, stageWidth - DisplayColumns.width(of: stage))) + " "
        let path = DisplayColumns.printable(PlainReporter.displayPath(item.path))
        let available = columns - DisplayColumns.width(of: head)
        let full: String, short: String
        if let total = item.total, total > 0 {
            let percent = "\(min(100, Int(Double(item.bytes) * 100 / Double(total))))%"
            (full, short) = ("\(percent) of \(ByteSize.format(total))", percent)
        } else if item.bytes > 0 {
            (full, short) = (ByteSize.format(item.bytes), ByteSize.format(item.bytes))
        } else {
            (full, short) = ("", "")
        }
        // Room for the file name and a little of its folder, or 20 columns if that is more.
        let name = path.lastIndex(of: "/").map { path[$0...] } ?? path[...]
        let wanted = min(DisplayColumns.width(of: path), max(20, DisplayColumns.width(of: name) + 2))
        for progress in [full, short, ""] {
            let tail = progress.isEmpty ? "" : "  " + progress
            let room = available - DisplayColumns.width(of: tail)
            if room >= wanted || progress.isEmpty {
                return DisplayColumns.cut(head + DisplayColumns.shortenedPath(path, to: max(0, room)) + tail, to: columns)
            }
        }
        return DisplayColumns.cut(head, to: columns)
    }

    /// "12 completed, 1 failed, 3 skipped, 138 pending" of the state at the start of a run.
    static func stateText(_ summary: StateSummary) -> String {
        guard summary.total > 0 else { return "the state is empty" }
        return "the state holds \(summary.completed) completed, \(summary.failed) failed, \(summary.skipped) skipped, "
            + "\(summary.pending + summary.inProgress) to do"
    }

    /// "14:03:27", the time of day in front of each line.
    static func timeOfDay(_ date: Date, utcOffset: Int) -> String {
        let seconds = ((Int(date.timeIntervalSince1970.rounded(.down)) + utcOffset) % 86_400 + 86_400) % 86_400
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(seconds / 3600)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
    }

    static func span(_ seconds: Double) -> String {
        seconds < 1 ? "0s" : TimeSpan(seconds: seconds.rounded(.down)).description
    }

    /// Red for failures, yellow for warnings; nothing else is coloured.
    private static func colourCode(_ event: RunEvent) -> Int? {
        switch event {
        case .itemFailed, .givenUp: return 31
        case .warning: return 33
        default: return nil
        }
    }
}
