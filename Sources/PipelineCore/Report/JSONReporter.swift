import Foundation
import Synchronization

/// One JSON object per line (`--log-format json`), for machines; progress at most once a second per item.
public final class JSONReporter: Reporter {
    private let writer: LineWriter
    private let lastProgress = Mutex<[String: Double]>([:])

    public init(writer: LineWriter) { self.writer = writer }

    public func report(_ event: RunEvent) {
        var fields: [String: JSONValue] = ["time": .string(UTCTimestamp.now())]
        func set(_ event: String, _ values: [String: JSONValue]) {
            fields["event"] = .string(event)
            fields.merge(values) { _, new in new }
        }
        switch event {
        case .runStarted(let pipeline, let summary, _):
            set("run_started", ["pipeline": .string(pipeline), "summary": Self.encode(summary)])
        case .notice(let message): set("notice", ["message": .string(message)])
        case .warning(let message): set("warning", ["message": .string(message)])
        case .listed(let found, let selected, let toDo, let bytes):
            set("listed", ["found": .number(Double(found)), "selected": .number(Double(selected)), "to_do": .number(Double(toDo)), "bytes_to_do": .number(Double(bytes))])
        case .stageStarted(let path, let stage, let attempt):
            set("stage_started", ["path": .string(path), "stage": .string(stage), "attempt": .number(Double(attempt))])
        case .stageDone(let path, let stage, let seconds):
            set("stage_done", ["path": .string(path), "stage": .string(stage), "seconds": .number(seconds)])
        case .stageRetrying(let path, let stage, let attempt, let after, let error):
            set("stage_retrying", ["path": .string(path), "stage": .string(stage), "attempt": .number(Double(attempt)),
                                   "after_seconds": .number(after.seconds), "error": .string(error)])
        case .stageLog(let path, let stage, let message):
            set("stage_log", ["path": .string(path), "stage": .string(stage), "message": .string(message)])
        case .progress(let path, let stage, let bytes, let total):
            let now = Date().timeIntervalSince1970
            let due = lastProgress.withLock { last -> Bool in
                if now - (last[path] ?? 0) < 1 { return false }
                last[path] = now
                return true
            }
            guard due else { return }
            set("progress", ["path": .string(path), "stage": .string(stage), "bytes": .number(Double(bytes)),
                             "total": total.map { .number(Double($0)) } ?? .null])
        case .wentBack(let path, let stage, let reason):
            set("went_back", ["path": .string(path), "stage": .string(stage), "reason": .string(reason)])
        case .itemCompleted(let path, let size):
            set("item_completed", ["path": .string(path), "size": .number(Double(size))])
        case .itemFailed(let path, let stage, let error, let failures, let givenUp):
            set("item_failed", ["path": .string(path), "stage": .string(stage), "error": .string(error),
                                "failures": .number(Double(failures)), "given_up": .bool(givenUp)])
        case .itemSkipped(let path, let reason):
            set("item_skipped", ["path": .string(path), "reason": .string(reason)])
        case .itemLeft(let path, let stage):
            set("item_left", ["path": .string(path), "stage": .string(stage)])
        case .givenUp(let items):
            set("given_up", ["items": .array(items.map { item in
                ["path": .string(item.path), "stage": item.stage.map(JSONValue.string) ?? .null, "error": .string(item.error),
                 "failures": .number(Double(item.failures))]
            })])
        case .stopping(let reason): set("stopping", ["reason": .string(reason)])
        case .failureCategories(let counts):
            set("failure_categories", ["categories": .array(counts.map { count in
                ["category": .string(count.category.rawValue), "count": .number(Double(count.count)),
                 "suggestion": .string(FailureAdvice.suggestion(count.category, .category))]
            })])
        case .runFinished(let outcome, let summary, _):
            set("run_finished", ["outcome": Self.encode(outcome), "summary": Self.encode(summary),
                                 "exit_status": .number(Double(outcome.exitStatus.rawValue))])
        }
        writer.line(JSONValue.object(fields).jsonText())
    }

    static func encode(_ value: some Encodable) -> JSONValue {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        guard let data = try? encoder.encode(value), let decoded = try? JSONDecoder().decode(JSONValue.self, from: data) else { return .null }
        return decoded
    }
}
