import Foundation
import Synchronization

/// `pipeline run`: loads the file, opens and locks the state, runs the orchestrator under a signal
/// trap, and closes the state so it is one file again.
public struct PipelineRunner: Sendable {
    /// Command-line overrides of the pipeline file.
    public struct Overrides: Sendable {
        public var statePath: String?
        public var workdir: String?
        public var concurrency: Int?
        public var timeBudget: TimeSpan?
        public var diskBudget: ByteSize?
        public var fresh: Bool

        public init(statePath: String? = nil, workdir: String? = nil, concurrency: Int? = nil, timeBudget: TimeSpan? = nil,
                    diskBudget: ByteSize? = nil, fresh: Bool = false) {
            self.fresh = fresh
            self.statePath = statePath
            self.workdir = workdir
            self.concurrency = concurrency
            self.timeBudget = timeBudget
            self.diskBudget = diskBudget
        }

        public func applied(to pipeline: PipelineFile) -> PipelineFile {
            var pipeline = pipeline
            let here = PathResolver.currentDirectory
            if let statePath {
                let state = StateLocation(statePath, relativeTo: here)
                pipeline.statePath = state.rawValue
                if let password = state.password { pipeline.secrets.insert(password) }
            }
            if let workdir { pipeline.workdir = PathResolver.absolute(workdir, relativeTo: here) }
            if let concurrency { pipeline.concurrency = concurrency }
            if let timeBudget { pipeline.timeBudget = timeBudget }
            if let diskBudget { pipeline.diskBudget = diskBudget }
            pipeline.fresh = pipeline.fresh || fresh
            return pipeline
        }
    }

    public var catalog: any StageCatalog
    public var logFormat: LogFormat
    public var isTerminal: Bool
    public var verbosity: Verbosity

    /// `isTerminal`: standard output is a terminal that can move its cursor (not `TERM=dumb`).
    public init(catalog: any StageCatalog, logFormat: LogFormat, isTerminal: Bool, verbosity: Verbosity = .normal) {
        self.catalog = catalog
        self.logFormat = logFormat
        self.isTerminal = isTerminal
        self.verbosity = verbosity
    }

    /// Whether standard output is a terminal the live display can draw on.
    public static func standardOutputIsTerminal(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        isatty(STDOUT_FILENO) == 1 && environment["TERM"] != "dumb"
    }

    public func makeReporter(redactor: SecretRedactor, secrets: Set<String> = []) -> any Reporter {
        let writer = LineWriter(redactor: redactor)
        switch logFormat {
        case .json: return JSONReporter(writer: writer)
        case .plain, .auto:
            // In a GitHub Actions step the plain log gains groups, annotations, masks and a step summary.
            if let actions = GitHubActionsReporter.Environment() {
                return GitHubActionsReporter(wrapping: PlainReporter(writer: writer, verbosity: verbosity), writer: writer, redactor: redactor,
                                             secrets: secrets, environment: actions)
            }
            return logFormat == .plain || !isTerminal ? PlainReporter(writer: writer, verbosity: verbosity)
                : TerminalReporter(writer: writer, verbosity: verbosity)
        }
    }

    public func run(_ pipeline: PipelineFile) async throws -> ExitStatus {
        // Again after the command line's --workdir and --state.
        try FolderLayout.check(pipeline, catalog: catalog)
        let session = try PipelineSession.forWriting(pipeline: pipeline, stateOverride: nil, create: true)
        defer { try? session.close() }
        try session.claim(for: pipeline)
        do {
            try FileManager.default.createDirectory(atPath: pipeline.workdir, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(.io, "cannot create the work directory '\(pipeline.workdir)': \(error.localizedDescription)")
        }
        try session.store.setMetadata(PipelineSession.maxFailuresKey, String(pipeline.maxFailures))
        let factory = StageFactory(catalog: catalog)
        let source = try factory.source(for: pipeline)
        let steps = try pipeline.stages.map { PipelineStep(definition: $0, stage: try factory.stage($0, in: pipeline)) }
        let settings = RunSettings(pipeline: pipeline, catalog: catalog)
        let reporter = makeReporter(redactor: settings.redactor, secrets: pipeline.secrets)
        let orchestrator = Orchestrator(settings: settings, source: source, steps: steps, store: session.store, reporter: reporter)
        let trap = SignalTrap { name in
            orchestrator.requestStop(.signal, reason: "\(name) received; stopping running stages and saving the state")
        }
        defer { trap.cancel() }
        let watch = session.lock.map { lock in
            Task {
                // A state deleted or replaced during the run would go on being written to a file
                // nobody can open again: stop, and write it back below.
                while !Task.isCancelled, lock.stateFileIsInPlace { try await Task.sleep(for: .seconds(1)) }
                guard !Task.isCancelled else { return }
                orchestrator.requestStop(.stateUnwritable, reason: "the state file '\(pipeline.statePath)' was deleted or replaced during the run")
            }
        }
        defer { watch?.cancel() }
        let outcome: RunOutcome
        do {
            outcome = try await orchestrator.run()
        } catch {
            reporter.finish()
            throw error
        }
        if let lock = session.lock, !lock.stateFileIsInPlace { try restore(session, reporter: reporter) }
        reporter.finish()
        try session.close()
        return outcome.exitStatus
    }

    /// Writes the state this run kept open back where it belongs (or beside a file that replaced it).
    private func restore(_ session: PipelineSession, reporter: any Reporter) throws {
        let path = session.statePath
        let target = FileManager.default.fileExists(atPath: path) ? path + ".recovered-\(Int(Date().timeIntervalSince1970))" : path
        try session.store.saveCopy(to: target)
        reporter.report(.warning(target == path
            ? "the state file '\(path)' was deleted during the run; it was written back from the open copy, nothing is lost"
            : "the state file '\(path)' was replaced during the run; this run's state is in '\(target)' (check which one to keep)"))
    }

    /// Lists the source and says what a run would do for each item, changing nothing: the items it
    /// would work on first, in the order it would take them, then those waiting for a time window
    /// or the next quota day, then those done, skipped or given up.
    ///
    /// The listing goes into an in-memory copy of the state the way a run records it
    /// (`ListingIntake`: the same selection, duplicate paths removed the same way, the same classes)
    /// and is claimed from with the run's own plan at `clock`'s time, so the order is the run's.
    public func dryRun(_ pipeline: PipelineFile, clock: any RunClock = SystemRunClock()) async throws -> [String] {
        let store = PipelineSession.exists(pipeline.state)
            ? try PipelineSession.forReading(pipeline: pipeline, stateOverride: nil).store : nil
        defer { try? store?.close() }
        let factory = StageFactory(catalog: catalog)
        let steps = try pipeline.stages.map { PipelineStep(definition: $0, stage: try factory.stage($0, in: pipeline)) }
        let copy = MemoryStateStore()
        if let store { try StateCopier().copy(from: store, to: copy) }
        var settings = RunSettings(pipeline: pipeline, catalog: catalog)
        settings.clock = clock
        let scheduled = ScheduledClaims(settings: settings, store: copy)
        try scheduled.refreshClasses()
        let generation = try copy.beginListing()
        let intake = ListingIntake(selection: pipeline.source.selection, scheduled: scheduled)
        let listedPaths = Mutex<[String]>([])
        let source = try factory.source(for: pipeline)
        do {
            try await source.list(ListContext(parameters: pipeline.source.parameters, workdir: pipeline.workdir, stop: StopSignal(),
                                              selection: pipeline.source.selection, log: { _ in })) { batch in
                let selected = try intake.record(batch, generation: generation).selected
                listedPaths.withLock { $0 += selected.map(\.path) }
            }
        } catch let failure as StageFailure {
            throw PipelineError(.sourceUnavailable, "cannot list the source: \(SecretRedactor(secrets: pipeline.secrets).redact(failure.message))")
        }
        try copy.finishListing(generation)
        // The run's order: claim until nothing is left (each claim holds its items, so the next takes the next).
        let plan = try scheduled.plan()
        var taken: [ClaimedItem] = []
        while case let batch = try copy.claimItems(limit: 1000, maxFailures: pipeline.maxFailures, leaseFor: TimeSpan(milliseconds: 3_600_000), plan: plan),
              !batch.isEmpty {
            taken += batch
        }
        let takenPaths = Set(taken.map(\.item.path))
        var lines: [String] = []
        var counts: [String: Int] = [:]
        func add(_ line: String) {
            counts[String(line.prefix(9)).trimmingCharacters(in: .whitespaces), default: 0] += 1
            lines.append(line)
        }
        for claim in taken {
            let shown = PlainReporter.displayPath(claim.item.path)
            if let limit = pipeline.source.maxSize, claim.item.size > limit.bytes {
                add("too large \(shown) (\(ByteSize.format(claim.item.size)) > \(limit))")
                continue
            }
            let stageRecords = try copy.stageRecords(for: claim.item.path)
            var journey = ItemJourney(plan: steps.map(\.plan))
            let action = journey.resume(done: steps.map { stageRecords[$0.name]?.status == .done }) { index in
                steps[index].stage.outputsAreValid(stageRecords[steps[index].name]?.outputs ?? [:], workdir: pipeline.workdir)
            }
            switch action {
            case .run(let index, _), .backTo(let index, _):
                let fresh = claim.record.status == .pending && claim.record.stage == nil && claim.record.failures == 0 && stageRecords.isEmpty
                add((fresh ? "new       " : "resume    ") + "\(shown) at \(steps[index].name)")
            default:
                add("done      \(shown)")
            }
        }
        let now = clock.date
        let schedule = pipeline.schedule
        for path in listedPaths.withLock({ $0 }) where !takenPaths.contains(path) {
            guard let record = try copy.item(path) else { continue }
            let shown = PlainReporter.displayPath(path)
            switch record.status {
            case .completed: add("done      \(shown)")
            case .skipped: add("skipped   \(shown): \(record.skipReason ?? "")")
            case .failed where record.hasGivenUp(maxFailures: pipeline.maxFailures): add("gave up   \(shown) (`pipeline retry` to try again)")
            default:
                let window = schedule.classify(path: path, size: record.size ?? 0).window
                if window > 0, !schedule.windows[window - 1].window.isOpen(at: now) {
                    let daily = schedule.windows[window - 1].window
                    add("waiting   \(shown) for its window \(daily), which opens in \(DailyWindow.spoken(daily.nextOpening(after: now).timeIntervalSince(now)))")
                } else {
                    add("waiting   \(shown) for the next quota day (it needs more requests than are left today)")
                }
            }
        }
        lines.append("dry run: " + counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + "; nothing was changed")
        let redactor = SecretRedactor(secrets: pipeline.secrets)
        return lines.map { redactor.redact($0) }
    }
}
