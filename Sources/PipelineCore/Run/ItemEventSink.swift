import Foundation

/// Routes one stage attempt's events: progress and log lines to the reporter, checkpoints and
/// child-process ids durably into the state.
struct ItemEventSink: StageEventSink {
    let path: String
    let stage: String
    let store: any StateStore
    let reporter: any Reporter
    let redactor: SecretRedactor
    /// Gives the attempt's stage slot to the next item (once).
    var slotReleased: @Sendable () -> Void = {}
    var mayFollow: @Sendable () -> Bool = { false }

    func progress(bytes: Int64, total: Int64?) {
        reporter.report(.progress(path: path, stage: stage, bytes: bytes, total: total))
    }

    func log(_ message: String) {
        reporter.report(.stageLog(path: path, stage: stage, message: redactor.redact(message)))
    }

    func checkpoint(_ values: [String: JSONValue]) throws {
        try store.commitSynchronously([.stageCheckpoint(path: path, stage: stage, values: redactor.redact(values))])
    }

    func waitingForOthers() { slotReleased() }

    func othersMayFollow() -> Bool { mayFollow() }

    func recall(_ key: String) throws -> String? { try store.stageMemory(stage: stage, key) }

    func remember(_ changes: [String: String?]) throws { try store.setStageMemory(stage: stage, changes) }

    func processStarted(pid: Int32) throws {
        try store.commitSynchronously([.stageProcess(path: path, stage: stage, processID: pid, processStart: ChildProcess.startTime(of: pid))])
    }
}
