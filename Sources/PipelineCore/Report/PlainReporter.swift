import Foundation
import Synchronization

/// One plain line per event: for CI logs, pipes and files.
///
/// Long transfers also get a progress line now and then, so a CI log shows that a 30 GB fetch is
/// moving.
public final class PlainReporter: Reporter {
    let writer: LineWriter
    private let progressInterval: Double
    private let verbosity: Verbosity
    private let lastProgress = Mutex<[String: Double]>([:])

    public init(writer: LineWriter, progressInterval: Double = 15, verbosity: Verbosity = .normal) {
        self.writer = writer
        self.progressInterval = progressInterval
        self.verbosity = verbosity
    }

    public func report(_ event: RunEvent) {
        guard verbosity.shows(event.level, live: false) else { return }
        if case .progress(let path, let stage, let bytes, let total) = event {
            let now = Date().timeIntervalSince1970
            let due = lastProgress.withLock { last -> Bool in
                let key = stage + "\u{0}" + path
                if now - (last[key] ?? now) < progressInterval { if last[key] == nil { last[key] = now }; return false }
                last[key] = now
                return true
            }
            if due { writer.line("\(UTCTimestamp.now()) \(stage) progress \(PlainReporter.displayPath(path)) \(ProgressText.fraction(bytes, total))") }
            return
        }
        for line in Self.lines(for: event) { writer.line(line) }
    }

    /// Control characters in remote names (and in messages that quote them) would corrupt a log or
    /// forge lines in it; they are shown escaped.
    static func displayPath(_ path: String) -> String {
        var shown = ""
        for scalar in path.unicodeScalars {
            if scalar.isASCIIControl { shown += String(format: "\\x%02X", scalar.value) }
            else { shown.unicodeScalars.append(scalar) }
        }
        return shown
    }

    /// The text lines of an event, each starting with `time` (shared with the terminal display).
    static func lines(for event: RunEvent, time: String = UTCTimestamp.now()) -> [String] {
        switch event {
        case .runStarted(let pipeline, let summary, let maxFailures):
            return ["\(time) run of '\(pipeline)' started", SummaryText.render(summary, maxFailures: maxFailures)]
        case .notice(let message): return ["\(time) \(displayPath(message))"]
        case .warning(let message): return ["\(time) warning: \(displayPath(message))"]
        case .listed(let found, let selected, let toDo, _):
            return ["\(time) listed \(found) items, \(selected) selected, \(toDo) to process"]
        case .stageStarted(let path, let stage, let attempt):
            return ["\(time) \(stage) started \(displayPath(path))" + (attempt > 1 ? " (attempt \(attempt))" : "")]
        case .stageDone(let path, let stage, let seconds):
            return ["\(time) \(stage) done \(displayPath(path)) in \(String(format: "%.1f", seconds))s"]
        case .stageRetrying(let path, let stage, let attempt, let after, let error):
            return ["\(time) \(stage) failed \(displayPath(path)): \(displayPath(error)); try \(attempt) in \(after)"]
        case .stageLog(let path, let stage, let message):
            return ["\(time) \(stage) | \(displayPath(path)): \(displayPath(message))"]
        case .progress: return []
        case .wentBack(let path, let stage, let reason):
            return ["\(time) back to \(stage) for \(displayPath(path)): \(displayPath(reason))"]
        case .itemCompleted(let path, let size):
            return ["\(time) completed \(displayPath(path)) (\(ByteSize.format(size)))"]
        case .itemFailed(let path, let stage, let error, let failures, let givenUp):
            return ["\(time) FAILED \(displayPath(path)) in \(stage): \(displayPath(error)) [failed runs: \(failures)\(givenUp ? ", skipped from now on until `pipeline retry`" : "")]"]
        case .itemSkipped(let path, let reason):
            return ["\(time) skipped \(displayPath(path)): \(displayPath(reason))"]
        case .itemLeft(let path, let stage):
            return ["\(time) left \(displayPath(path)) at \(stage) for the next run"]
        case .givenUp(let items):
            let shown = items.prefix(GivenUpItem.listed).map { item in
                "\(time) given up: \(displayPath(item.path))\(item.stage.map { " at \($0)" } ?? "") after \(item.failures) failed runs: "
                    + displayPath(item.error)
            }
            let more = items.count > GivenUpItem.listed ? ["\(time) …and \(items.count - GivenUpItem.listed) more given up (`pipeline status`)"] : []
            return shown + more + ["\(time) \(items.count) item\(items.count == 1 ? " is" : "s are") set aside: fix the cause, then `pipeline retry PATH` (or `--all-failed`), or `pipeline forget PATH`"]
        case .stopping(let reason):
            return ["\(time) stopping: \(displayPath(reason))"]
        case .failureCategories(let counts):
            return counts.map { "\(time) failed in this run: \($0.count) \($0.category.title); fix: \(FailureAdvice.suggestion($0.category, .category))" }
                + ["\(time) `pipeline failures` groups them by folder, extension and message, with a fix for each"]
        case .runFinished(let outcome, let summary, let maxFailures):
            let plan = outcome.plan.flatMap { $0.items > 0 ? ["\(time) left: \($0.line())"] : nil } ?? []
            return ["\(time) run finished: \(SummaryText.outcomeLine(outcome))"] + plan + [SummaryText.render(summary, maxFailures: maxFailures)]
        }
    }
}

/// Progress figures as text.
enum ProgressText {
    static func fraction(_ bytes: Int64, _ total: Int64?) -> String {
        guard let total, total > 0 else { return ByteSize.format(bytes) }
        return "\(ByteSize.format(bytes))/\(ByteSize.format(total)) (\(Int(Double(bytes) * 100 / Double(total)))%)"
    }
}
