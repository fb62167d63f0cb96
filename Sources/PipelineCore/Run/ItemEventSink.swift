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
    /// Opens when what `mayFollow` answers may have changed.
    var mayFollowChange: @Sendable () -> Latch = { Latch() }
    /// Where the item came from: a shared state's leases and sections, or the run's own listing.
    var supply: (any WorkSupply)?

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
    func nextChangeOfOthersMayFollow() -> Latch { mayFollowChange() }

    func beforeIrreversibleStep() async throws(StageFailure) {
        do {
            try await supply?.secure(path)
        } catch let failure as StageFailure {
            throw failure
        } catch is LeaseLost {
            throw StageFailure.interrupted
        } catch {
            throw StageFailure.retryable("cannot make sure the item is still this runner's before an irreversible step: \(redactor.redact("\(error)"))")
        }
    }

    func recall(_ key: String) throws -> String? { try store.stageMemory(stage: stage, key) }

    func remember(_ changes: [String: String?]) throws { try store.setStageMemory(stage: stage, changes) }

    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T {
        guard let supply else { return try body() }
        return try supply.exclusively("stage:\(stage):\(name)", body)
    }

    func spend(_ quota: String, day: String, amount: Int, limit: Int) throws -> Bool {
        try store.spend(quota, period: day, amount: amount, limit: limit)
    }

    func processStarted(pid: Int32) throws {
        try store.commitSynchronously([.stageProcess(path: path, stage: stage, processID: pid, processStart: ChildProcess.startTime(of: pid))])
    }
}
