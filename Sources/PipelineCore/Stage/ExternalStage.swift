import Foundation
import Synchronization

/// An executable (rclone wrapper, shell or Python script) behind the `Stage` and `SourceStage` faces.
///
/// Exit status 0 is success, 75 (EX_TEMPFAIL) a retryable failure, anything else a failure of the
/// item for this run. A `result` line, when printed, says more (outputs, skip, error message).
public struct ExternalStage: Stage, SourceStage {
    public static let retryableExitStatus: Int32 = 75

    public let name: String
    public let executable: String
    public let parameters: [String: JSONValue]
    /// The source's `with:`, sent along so a fetch stage can default to its connection settings.
    public let sourceParameters: [String: JSONValue]
    public let stopGrace: TimeSpan
    public let redactor: SecretRedactor
    public let isIrreversible: Bool

    public init(name: String, executable: String, parameters: [String: JSONValue], sourceParameters: [String: JSONValue] = [:],
                stopGrace: TimeSpan, redactor: SecretRedactor, irreversible: Bool = false) {
        self.name = name
        self.executable = executable
        self.parameters = parameters
        self.sourceParameters = sourceParameters
        self.stopGrace = stopGrace
        self.redactor = redactor
        self.isIrreversible = irreversible
    }

    private var displayName: String { (executable as NSString).lastPathComponent }

    public func run(_ context: StageContext) async throws -> StageResult {
        let request = ExternalStageMessage.runRequest(context, stageName: name, parameters: parameters, sourceParameters: sourceParameters)
        let collected = Collected()
        let exit = try await execute(request: request, stop: context.stop, started: { pid in
            try? context.events.processStarted(pid: pid)
        }, line: { line in
            switch ExternalStageMessage.parse(line) {
            case .progress(let bytes, let total): context.progress(bytes: bytes, total: total)
            case .log(let message), .text(let message): context.log(redactor.redact(message))
            case .malformed(let problem): collected.setMalformed(problem)
            case .checkpoint(let values):
                do { try context.saveCheckpoint(values) } catch { collected.setCheckpointFailure("\(error)") }
            case .item: context.log("\(displayName): ignored an item line (only a source lists items)")
            case .result(let result): collected.setResult(result)
            }
        }, overlong: collected.setOverlongLine, stderr: { context.log(redactor.redact($0)) })

        if let failure = collected.checkpointFailure {
            throw StageFailure.retryable("could not record a checkpoint: \(failure)")
        }
        try throwIfStopped(exit, stop: context.stop)
        if let problem = collected.malformed {
            throw StageFailure(.permanent, "\(displayName) broke the stage protocol (stages/README.md): \(redactor.redact(problem))", category: .stageCrashed)
        }
        try throwIfOverlong(collected)
        let result = collected.result
        if exit.status == 0 {
            switch result {
            case .ok(let outputs)?: return .done(try normalised(outputs, workdir: context.workdir))
            case .skip(let reason)?: return .skip(reason: redactor.redact(reason))
            case .error(let message, let retryable, let badInput, let category)?:
                throw StageFailure(badInput ? .badInput : (retryable ? .retryable : .permanent), redactor.redact(message), category: category)
            case nil: return .done([:])
            }
        }
        let message: String
        var category: FailureCategory?
        if case .error(let reported, _, _, let given)? = result {
            message = redactor.redact(reported)
            category = given
        } else {
            message = exit.signal.map { "\(displayName) was killed by signal \($0)" } ?? "\(displayName) exited with status \(exit.status ?? -1)"
            // Ended outside the protocol (a crash, a signal, a status with no error result): 75 is the protocol's "try again".
            category = exit.status == Self.retryableExitStatus ? nil : .stageCrashed
        }
        if case .error(_, _, true, _)? = result { throw StageFailure(.badInput, message, category: category) }
        throw StageFailure(exit.status == Self.retryableExitStatus ? .retryable : .permanent, message, category: category)
    }

    public func list(_ context: ListContext) async throws -> [SourceItem] {
        let request = ExternalStageMessage.listRequest(context, parameters: parameters)
        let collected = Collected()
        let exit = try await execute(request: request, stop: context.stop, started: { _ in }, line: { line in
            switch ExternalStageMessage.parse(line) {
            case .item(let item): collected.addItem(item)
            case .result(let result): collected.setResult(result)
            case .log(let message), .text(let message): context.log(redactor.redact(message))
            case .malformed(let problem): collected.setMalformed(problem)
            case .progress, .checkpoint: break
            }
        }, overlong: collected.setOverlongLine, stderr: { context.log(redactor.redact($0)) })
        try throwIfStopped(exit, stop: context.stop)
        // A listing that drops an entry must not succeed: the line is named, nothing is recorded.
        if let problem = collected.malformed {
            throw StageFailure.permanent("listing with \(displayName) gave a line it cannot use: \(redactor.redact(problem))")
        }
        try throwIfOverlong(collected)
        if case .error(let message, let retryable, _, _)? = collected.result {
            throw StageFailure(retryable ? .retryable : .permanent, "listing failed: \(redactor.redact(message))")
        }
        guard exit.status == 0 else {
            throw StageFailure(exit.status == Self.retryableExitStatus ? .retryable : .permanent,
                               "listing with \(displayName) failed (exit status \(exit.status.map(String.init) ?? "signal \(exit.signal ?? 0)"))")
        }
        return collected.items
    }

    /// Runs the executable on `request`. A stdout line over the limit goes to `overlong` (it fails
    /// the attempt: it may have been the result); a stderr one is dropped with a warning.
    private func execute(request: JSONValue, stop: StopSignal, started: @escaping @Sendable (Int32) async -> Void,
                         line: @escaping @Sendable (String) -> Void, overlong: @escaping @Sendable (Int) -> Void,
                         stderr: @escaping @Sendable (String) -> Void) async throws -> ChildProcess.Exit {
        let child = ChildProcess(executable: executable)
        let displayName = displayName
        return try await child.run(input: Data((request.jsonText() + "\n").utf8), stop: stop, grace: stopGrace, started: started,
            stdout: { piece in
                switch piece {
                case .line(let text): line(text)
                case .overlong(let bytes): overlong(bytes)
                }
            },
            stderr: { piece in
                switch piece {
                case .line(let text): stderr(text)
                case .overlong(let bytes):
                    stderr("\(displayName) wrote a line longer than \(Self.lineLimitText) on stderr (\(bytes) bytes without a newline); it was dropped")
                }
            })
    }

    private static let lineLimitText = "\(LineSplitter.standardLimit >> 20) MiB"

    private func throwIfOverlong(_ collected: Collected) throws {
        guard let bytes = collected.overlongLine else { return }
        throw StageFailure.permanent("\(displayName) printed a line longer than \(Self.lineLimitText) on stdout (\(bytes) bytes without "
            + "a newline), the most a protocol line may hold, so its messages could not be trusted: print one JSON message "
            + "per line, and progress bars on stderr")
    }

    /// A process we ended on a stop failed as the stop says (`StopSignal.failure`: interrupted, or timed out).
    private func throwIfStopped(_ exit: ChildProcess.Exit, stop: StopSignal) throws {
        guard exit.stoppedBecause != nil else { return }
        throw stop.failure ?? .interrupted
    }

    /// File outputs become relative to the work directory; one pointing outside it is refused.
    private func normalised(_ outputs: [String: JSONValue], workdir: String) throws -> [String: JSONValue] {
        guard let file = outputs[StageOutputs.file]?.stringValue else { return outputs }
        // Relative to the work directory or absolute, it must stay inside: a later stage deletes it.
        let standardised = ((file.hasPrefix("/") ? file : workdir + "/" + file) as NSString).standardizingPath
        guard standardised.hasPrefix(workdir + "/") else {
            throw StageFailure.permanent("\(displayName) reported a file outside the work directory: \(standardised)")
        }
        var result = outputs
        result[StageOutputs.file] = .string(String(standardised.dropFirst(workdir.count + 1)))
        return result
    }
}

/// What the output readers gather while the process runs.
private final class Collected: Sendable {
    private struct State {
        var items: [SourceItem] = []
        var result: ExternalStageMessage.Result?
        var checkpointFailure: String?
        /// The first line that broke the protocol: it fails the attempt (or the listing) whatever follows.
        var malformed: String?
        var overlongLine: Int?
    }
    private let state = Mutex(State())

    func setMalformed(_ problem: String) { state.withLock { $0.malformed = $0.malformed ?? problem } }
    var malformed: String? { state.withLock { $0.malformed } }

    func addItem(_ item: SourceItem) { state.withLock { $0.items.append(item) } }
    func setResult(_ result: ExternalStageMessage.Result) { state.withLock { $0.result = result } }
    func setCheckpointFailure(_ failure: String) { state.withLock { $0.checkpointFailure = failure } }
    var checkpointFailure: String? { state.withLock { $0.checkpointFailure } }
    /// The length of the first stdout line over the limit.
    func setOverlongLine(_ bytes: Int) { state.withLock { $0.overlongLine = $0.overlongLine ?? bytes } }
    var overlongLine: Int? { state.withLock { $0.overlongLine } }
    var items: [SourceItem] { state.withLock { $0.items } }
    var result: ExternalStageMessage.Result? { state.withLock { $0.result } }
}
