import Foundation
import Synchronization

/// Runs every listed item through the stages, recording each transition in the state store before
/// the next step begins.
///
/// Stages overlap: each works on at most its `concurrency` items at once (the pipeline's by
/// default), and as many items are in flight as the stages together can work on, so later items
/// are fetched while earlier ones upload. An item whose stage only waits for others (an upload
/// waiting for its batch) gives its place to the next one. The disk budget bounds what is staged.
///
/// The rules of an item's way live in `ItemJourney`; this type performs its actions (run a stage,
/// wait, record, report) and owns the run-wide concerns: listing, the time budget, stopping.
public final class Orchestrator: Sendable {
    let settings: RunSettings
    let source: any SourceStage
    let steps: [PipelineStep]
    let store: any StateStore
    let reporter: any Reporter
    /// Set when the run must wind down; every stage attempt's own signal hangs off it.
    public let stop = StopSignal()
    private let stopCause = Mutex<RunOutcome.StopCause?>(nil)
    private let diskBudget: FairShare?
    /// Each stage's places: how many items it works on at once.
    private let stageSlots: [FairShare]
    /// Where workers take items from (set once the run has listed, or joined a shared state),
    /// and which items may still come to each stage (a batch waits for them, and no others).
    private let supply = Mutex<(any WorkSupply)?>(nil)
    private let arrivals = NoticedMutex(StageArrivals())
    /// Items that gave their place away and whose worker was replaced, not finished yet.
    private let replaced = Mutex(0)
    /// Watches for an outage: set up once the run knows how many items it has.
    private let breaker = Mutex(CircuitBreaker(items: 0))
    /// Items failed in this run, with the category of the failure: taken back if the circuit opens.
    private let failedThisRun = Mutex([String: FailureCategory]())
    /// This run in the state's run history (`StateStore.beginRun`).
    private let history = Mutex<RunRecord?>(nil)
    /// Items skipped as they were claimed (larger than `max_size`).
    private let skippedOnAdmit = Mutex(0)

    public init(settings: RunSettings, source: any SourceStage, steps: [PipelineStep], store: any StateStore, reporter: any Reporter) {
        self.settings = settings
        self.source = source
        self.steps = steps
        self.store = store
        self.reporter = reporter
        let arrivalChanges = arrivals.changes
        self.diskBudget = settings.diskBudget.map { FairShare(limit: $0.bytes, changes: arrivalChanges) }
        self.stageSlots = steps.map { FairShare(limit: Int64($0.concurrency ?? settings.concurrency)) }
    }

    /// Items in flight at once: enough for every stage to be busy.
    var itemsInFlight: Int { max(1, steps.reduce(0) { $0 + ($1.concurrency ?? settings.concurrency) }) }

    /// Most items that gave their place away while waiting for others (a batch fills up to 50).
    static let waitingRoom = 100

    /// Stops starting new work and tells running stages to stop; items stay resumable.
    public func requestStop(_ cause: RunOutcome.StopCause, reason: String) {
        let first = stopCause.withLock { current -> Bool in
            guard current == nil else { return false }
            current = cause
            return true
        }
        guard first else { return }
        reporter.report(.stopping(reason: reason))
        stop.stop(.runStopping)
        diskBudget?.stop()
        for slots in stageSlots { slots.stop() }
    }

    // MARK: The run

    public func run() async throws -> RunOutcome {
        let began = settings.clock.instant
        guard let shared = store as? any SharedStateStore else {
            throw PipelineError(.internalError, "the state store \(type(of: store)) cannot hand out work (it is not a SharedStateStore)",
                                hint: "this is a bug in pipeline, please report it")
        }
        let before = try store.summary(maxFailures: settings.maxFailures)
        let startedAt = settings.clock.date.timeIntervalSince1970
        let begun = RunRecord(number: try store.beginRun(runner: shared.runner.id, startedAt: startedAt), runner: shared.runner.id, startedAt: startedAt)
        history.withLock { $0 = begun }
        reporter.report(.runStarted(pipeline: settings.pipelineName, summary: before, maxFailures: settings.maxFailures))
        let budget = settings.timeBudget.map { budget in
            Task { [weak self, clock = settings.clock] in
                try await clock.sleep(for: budget.duration)
                self?.requestStop(.timeBudget, reason: "time budget of \(budget) reached")
            }
        }
        defer { budget?.cancel() }

        var outcome = RunOutcome()
        guard let joined = try await joinSharedState(shared, givenUp: before.givenUp) else {
            // Stopped while listing: what was recorded stays, and the next run lists again.
            outcome.listingInterrupted = true
            return finish(outcome, began: began)
        }
        let (supply, toDo) = joined
        self.supply.withLock { $0 = supply }
        outcome.givenUp = before.givenUp
        breaker.withLock { $0 = CircuitBreaker(items: toDo) }

        let (events, feed) = AsyncStream.makeStream(of: FlowEvent.self)
        await withTaskGroup(of: Void.self) { group in
            // Workers take items from the queue one after another. One whose item gave its place
            // away has a new worker started in its stead, and ends with that item.
            var workers = 0
            func addWorker() {
                workers += 1
                group.addTask { await self.work(feed: feed) }
            }
            for _ in 0..<min(itemsInFlight, max(1, toDo)) { addWorker() }
            for await event in events {
                switch event {
                case .ended(.completed(let size)):
                    outcome.completed += 1
                    outcome.bytesCompleted += size
                case .ended(.failed): outcome.failed += 1
                case .ended(.skipped): outcome.skipped += 1
                case .ended(.left): outcome.left += 1
                case .ended(.notStarted): outcome.notStarted += 1
                case .placeGiven:
                    addWorker()
                case .workerDone:
                    workers -= 1
                    if workers == 0 { feed.finish() }
                }
            }
        }
        outcome.notStarted += supply.drain()
        supply.finish()
        outcome.skipped += skippedOnAdmit.withLock { $0 }
        // Unfinished items other runners hold now are theirs to finish (this runner gave its own back).
        outcome.leftToOthers = (try? shared.liveLeaseCount()) ?? 0
        if let waiting = try? ScheduledClaims(settings: settings, store: shared).waiting() {
            outcome.waiting = waiting.count
            for notice in waiting.notices { reporter.report(.notice(notice)) }
        }
        if let trip = breaker.withLock({ $0.trip }) {
            let forgiven = try forgive(trip)
            outcome.failed -= forgiven
            outcome.left += forgiven
        }
        return finish(outcome, began: began)
    }

    /// Most given-up items a run names at its end (they are counted all the same).
    static let givenUpNamed = 1000

    private func finish(_ outcome: RunOutcome, began: ContinuousClock.Instant) -> RunOutcome {
        var outcome = outcome
        outcome.stoppedBy = stopCause.withLock { $0 }
        let elapsed = settings.clock.instant - began
        outcome.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        outcome.plan = try? TransferPlan(store: store, maxFailures: settings.maxFailures, quotas: settings.quotas)
        let summary = try? store.summary(maxFailures: settings.maxFailures)
        let failures = failedThisRun.withLock { FailureCount.byCategory($0.values) }
        if !failures.isEmpty { reporter.report(.failureCategories(FailureCount.sorted(failures))) }
        if let begun = history.withLock({ $0 }) {
            // A run killed before this keeps its row without an end.
            try? store.finishRun(RunRecord(begun, ended: outcome, at: settings.clock.date.timeIntervalSince1970, failures: failures))
        }
        // Every item given up, before this run or in it: a bounded query names the first of them.
        let givenUp = (try? store.givenUpItems(maxFailures: settings.maxFailures, limit: Self.givenUpNamed)) ?? []
        if !givenUp.isEmpty {
            reporter.report(.givenUp(givenUp.map(givenUpItem)))
            if let total = summary?.givenUp, total > givenUp.count {
                reporter.report(.notice("\(total) items are set aside in all (the first \(givenUp.count) are named above); `pipeline status` lists them"))
            }
        }
        if let summary { reporter.report(.runFinished(outcome: outcome, summary: summary, maxFailures: settings.maxFailures)) }
        return outcome
    }

    /// Runs a listing (`body`) under the source's retry policy and timeout; nil when the run was
    /// stopped meanwhile.
    private func listSource<Listing: Sendable>(_ body: @escaping @Sendable (ListContext) async throws -> Listing) async throws -> Listing? {
        let policy = settings.source?.retry ?? .default
        var random = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            let attemptStop = StopSignal(parent: stop)
            let watchdog = settings.source?.timeout.map { timeOut(attemptStop, StageTimeout(stage: "source", limit: $0)) }
            defer { watchdog?.cancel() }
            let context = ListContext(parameters: settings.source?.parameters ?? [:], workdir: settings.workdir, stop: attemptStop,
                                      selection: settings.source?.selection ?? .everything) { [reporter, settings] line in
                reporter.report(.stageLog(path: "", stage: "source", message: settings.redactor.redact(line)))
            }
            do {
                return try await body(context)
            } catch var failure as StageFailure {
                if stop.isStopped { return nil }
                if attemptStop.reason == .timedOut, let timeout = attemptStop.failure { failure = timeout }
                let message = settings.redactor.redact(failure.message)
                if failure.kind == .interrupted { return nil }
                guard failure.kind == .retryable, attempt < policy.attempts else {
                    throw PipelineError(.sourceUnavailable, "cannot list the source: \(message)",
                                        hint: "check the source's connection settings; the state was not changed")
                }
                let wait = policy.delay(afterAttempt: attempt, using: &random)
                reporter.report(.warning("listing failed: \(message); try \(attempt + 1) in \(wait)"))
                attempt += 1
                guard await pause(wait) else { return nil }
            }
        }
    }

    private func givenUpItem(_ record: ItemRecord) -> GivenUpItem {
        GivenUpItem(path: record.path, stage: record.stage, error: record.lastError ?? "no error recorded", failures: record.failures)
    }

    /// Removes the work files of items that changed at the source.
    private func discardChangedWork(_ changes: ListingChanges) {
        for path in changes.changed {
            let workPath = WorkPath(itemPath: path, root: settings.workdir)
            try? FileManager.default.removeItem(atPath: workPath.partial)
            try? FileManager.default.removeItem(atPath: workPath.absolute)
            reporter.report(.notice("\(PlainReporter.displayPath(path)) changed at the source since it was started; its partial work was discarded"))
        }
    }

    /// The transition that skips an item larger than the source's `max_size`, if it is.
    private func tooLarge(_ item: SourceItem) -> StateTransition? {
        guard let limit = settings.source?.maxSize, item.size > limit.bytes else { return nil }
        return .itemSkipped(path: item.path, reason: "larger than max_size (\(ByteSize.format(item.size)) > \(limit))")
    }

    private func skip(_ tooLarge: [StateTransition]) throws {
        guard !tooLarge.isEmpty else { return }
        try store.commitSynchronously(tooLarge)
        for case .itemSkipped(let path, let reason) in tooLarge { reporter.report(.itemSkipped(path: path, reason: reason)) }
    }

    private func noteGivenUp(_ count: Int) {
        guard count > 0 else { return }
        reporter.report(.notice("\(count) item\(count == 1 ? "" : "s") failed \(settings.maxFailures) runs and \(count == 1 ? "is" : "are") set aside; `pipeline retry --all-failed` brings them back"))
    }

    // MARK: A shared state

    /// Joins the state (this runner's alone, or one several share): lists the source if no other
    /// runner does, then claims work from the state. Nil when stopped while listing.
    /// `givenUp`: how many items were given up when the run began (a listing gives up none).
    private func joinSharedState(_ shared: any SharedStateStore, givenUp: Int) async throws -> (supply: ClaimedWork, toDo: Int)? {
        let lease = settings.lease
        let scheduled = ScheduledClaims(settings: settings, store: shared)
        if try await Blocking.run({ try shared.holdRole(SharedRole.lister, for: lease) }) {
            guard try await listIntoSharedState(shared) else { return nil }
        } else {
            reporter.report(.notice("another runner lists the source; this one works on what the shared state holds"))
        }
        noteGivenUp(givenUp)
        // What is left, from the state's index of unfinished items: no count of the whole state.
        let toDo = try TransferPlan(store: store, maxFailures: settings.maxFailures, quotas: []).items
        let supply = ClaimedWork(
            store: shared, lease: lease, maxFailures: settings.maxFailures, batch: itemsInFlight, runStop: stop,
            takeOverListing: { [weak self] in _ = try await self?.listIntoSharedState(shared) },
            admit: { [weak self] claimed in try self?.admit(claimed) ?? [] },
            failed: { [weak self] error in
                self?.reporter.report(.warning("the shared state cannot be reached: \(self?.settings.redactor.redact("\(error)") ?? "")"))
                self?.requestStop(.stateUnwritable, reason: "the shared state could not be reached")
            },
            lost: { [weak self] paths in
                for path in paths {
                    self?.reporter.report(.notice("\(PlainReporter.displayPath(path)): the lease on it ended before it was renewed (this runner was frozen or cut off); another runner goes on with it"))
                }
            },
            plan: { [scheduled] in try scheduled.plan() })
        supply.start()
        return (supply, toDo)
    }

    /// Lists the source into the shared state as a new generation, holding the `lister` role (the
    /// caller took it) and renewing it meanwhile; gives the role up at the end. False when stopped.
    private func listIntoSharedState(_ shared: any SharedStateStore) async throws -> Bool {
        let lease = settings.lease
        let keeper = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .milliseconds(max(1, lease.milliseconds / 3)))
                _ = try? await Blocking.run { try shared.holdRole(SharedRole.lister, for: lease) }
            }
        }
        defer {
            keeper.cancel()
            try? shared.releaseRole(SharedRole.lister)
        }
        // Recorded batch by batch as the source yields them (the listing is never whole in
        // memory), under a new generation that is complete only once the whole listing is in.
        let scheduled = ScheduledClaims(settings: settings, store: shared)
        try scheduled.refreshClasses()
        let generation = try shared.beginListing()
        let intake = ListingIntake(selection: settings.source?.selection ?? .everything, scheduled: scheduled)
        let counts = Mutex((found: 0, selected: 0))
        let listed = try await listSource { [source] context in
            counts.withLock { $0 = (0, 0) }
            try await source.list(context) { [weak self] batch in
                let (selected, changes) = try intake.record(batch, generation: generation)
                counts.withLock { $0.found += batch.count; $0.selected += selected.count }
                self?.discardChangedWork(changes)
            }
            return counts.withLock { $0 }
        }
        guard let listed else { return false }
        try shared.finishListing(generation)
        // Counted by the state (a bounded aggregate), not by holding the listing.
        let left = try TransferPlan(store: store, maxFailures: settings.maxFailures, quotas: [])
        if left.items == 0 { reporter.report(.notice("No new files to process")) }
        reporter.report(.listed(found: listed.found, selected: listed.selected, toDo: left.items, bytesToDo: left.bytes))
        return true
    }

    /// Turns claimed items into work: a too-large one is skipped; a resumed one first loses any
    /// stage process its last runner left behind.
    private func admit(_ claimed: [ClaimedItem]) throws -> [WorkItem] {
        let skips = claimed.compactMap { tooLarge($0.item) }
        try skip(skips)
        skippedOnAdmit.withLock { $0 += skips.count }
        let skipped = Set(skips.map(\.path))
        return claimed.filter { !skipped.contains($0.item.path) }.map { claim in
            if claim.record.status == .inProgress { reapOrphans(of: claim.item.path) }
            return WorkItem(item: claim.item, mayHaveStageRecords: claim.record.status != .pending || claim.record.stage != nil)
        }
    }

    /// The circuit opened: the failures this run counted for the items of the streak were the
    /// outage's, not theirs. Returns how many were taken back.
    private func forgive(_ trip: CircuitBreaker.Trip) throws -> Int {
        let forgiven = failedThisRun.withLock { failed in trip.items.filter { failed.removeValue(forKey: $0) != nil } }
        if !forgiven.isEmpty { try store.commitSynchronously(forgiven.map { .itemFailureForgiven(path: $0) }) }
        return forgiven.count
    }

    /// Feeds the circuit breaker one attempt's outcome; opens the circuit (stops the run) on an outage.
    private func watchForOutage(_ result: Result<StageResult, StageFailure>, stage: String, path: String) {
        let trip = breaker.withLock { breaker -> CircuitBreaker.Trip? in
            switch result {
            case .success: breaker.answered(stage: stage)
            case .failure(let failure) where failure.kind == .retryable && !failure.isAnswerAboutTheItem:
                return breaker.failedToReach(stage: stage, item: path, error: failure.message)
            case .failure(let failure) where failure.kind != .interrupted:
                breaker.answered(stage: stage)
            case .failure: break
            }
            return nil
        }
        guard let trip else { return }
        requestStop(.outage, reason: """
            every try of stage '\(stage)' failed for \(trip.items.count) different items in a row, with no success \
            (last: \(settings.redactor.redact(trip.error))): the service seems down, not the items. Nothing is counted \
            as failed; run again once it is back
            """)
    }

    /// Stops external stages that a killed run left behind, so two copies never work on one item:
    /// called when an item in progress is claimed (other runners' items are theirs).
    private func reapOrphans(of path: String) {
        for record in (try? store.stageRecords(for: path).values.map { $0 }) ?? [] where record.status == .running {
            if let pid = record.processID, let start = record.processStart, ChildProcess.reapOrphan(pid: pid, startTime: start) {
                reporter.report(.notice("stopped stage process \(pid) left running by an earlier run (\(record.stage) of \(PlainReporter.displayPath(path)))"))
            }
        }
    }

    // MARK: One item

    private enum ItemEnd: Sendable {
        case completed(Int64), failed, skipped, left, notStarted
    }

    /// What workers tell the run loop.
    private enum FlowEvent: Sendable {
        case ended(ItemEnd)
        /// An item gave its place away (it waits for others): a worker takes over from its worker.
        case placeGiven
        case workerDone
    }

    /// Takes items from the queue until it is empty or the run stops. When an item gives its place
    /// away, a new worker goes on with the queue (while fewer than `waitingRoom` wait so) and this
    /// one ends with that item.
    private func work(feed: AsyncStream<FlowEvent>.Continuation) async {
        guard let supply = supply.withLock({ $0 }) else { return }
        while !stop.isStopped {
            arrivals.withLock { $0.taking() }
            guard let item = await supply.next() else {
                arrivals.withLock { $0.tookNothing() }
                break
            }
            let handedOver = Mutex(false)
            let end = await process(item) {
                let handOver = handedOver.withLock { done -> Bool in
                    guard !done, self.replaced.withLock({ count -> Bool in
                        guard count < Self.waitingRoom, supply.mayHaveMore, !self.stop.isStopped else { return false }
                        count += 1
                        return true
                    }) else { return false }
                    done = true
                    return true
                }
                if handOver { feed.yield(.placeGiven) }
            }
            feed.yield(.ended(end))
            if handedOver.withLock({ $0 }) {
                replaced.withLock { $0 -= 1 }
                break
            }
        }
        feed.yield(.workerDone)
    }

    /// Whether an item not settled at stage `index` may still come to it (`StageArrivals`). Items not
    /// started count only while the disk budget lets them start: when it is taken up (by items
    /// waiting in this stage, say), none can come before one of those finishes.
    private func othersMayFollow(stage index: Int) -> Bool {
        if stop.isStopped { return false }
        let supplyHasMore = supply.withLock { $0?.mayHaveMore } == true, startsBlocked = diskBudget?.hasWaiters == true
        return arrivals.read { $0.othersMayCome(to: index, supplyHasMore: supplyHasMore, startsBlocked: startsBlocked) }
    }

    private func process(_ work: WorkItem, gaveWay: @escaping @Sendable () -> Void) async -> ItemEnd {
        if let diskBudget {
            guard await diskBudget.reserve(work.item.size) else {
                arrivals.withLock { $0.tookNothing() }
                return .notStarted
            }
        }
        defer { diskBudget?.release(work.item.size) }
        arrivals.withLock { $0.placeTaken(work.item.path, at: 0) }
        defer { arrivals.withLock { $0.remove(work.item.path) } }
        guard let supply = supply.withLock({ $0 }) else { return .notStarted }
        do {
            let end = try await travel(work.item, mayHaveStageRecords: work.mayHaveStageRecords, supply: supply, gaveWay: gaveWay)
            // A failed item stays this runner's until the run ends: a failure counts once per run.
            if case .failed = end { await supply.failed(work.item.path) } else { await supply.ended(work.item.path) }
            return end
        } catch let lost as LeaseLost {
            // Another runner has the item now (this one was frozen or cut off past its lease):
            // it is theirs to finish, and nothing of this runner's was recorded.
            reporter.report(.notice("\(PlainReporter.displayPath(work.item.path)): \(lost); another runner goes on with it"))
            await supply.ended(work.item.path)
            return .left
        } catch {
            // The state could not be written (disk full, file removed): stop cleanly rather than
            // go on without a record.
            reporter.report(.warning("\(settings.redactor.redact("\(error)")); stopping the run"))
            requestStop(.stateUnwritable, reason: "the state could not be written")
            return .left
        }
    }

    private func travel(_ item: SourceItem, mayHaveStageRecords: Bool, supply: any WorkSupply,
                        gaveWay: @escaping @Sendable () -> Void) async throws -> ItemEnd {
        let path = item.path
        // Stops with the run, and when a shared state's lease on the item is lost.
        let itemStop = supply.stopSignal(for: path)
        let workPath = WorkPath(itemPath: path, root: settings.workdir)
        var records = mayHaveStageRecords ? try store.stageRecords(for: path) : [:]
        var journey = ItemJourney(plan: steps.map(\.plan))
        var action = journey.resume(done: steps.map { records[$0.name]?.status == .done }) { index in
            steps[index].stage.outputsAreValid(records[steps[index].name]?.outputs ?? [:], workdir: settings.workdir)
        }
        var pending: [StateTransition] = []
        var lastError = "its recorded output is no longer there"
        var lastCategory: FailureCategory?
        var random = SystemRandomNumberGenerator()

        while true {
            switch action {
            case .run(let index, let attempt):
                let step = steps[index]
                if itemStop.isStopped {
                    action = journey.stopped()
                    continue
                }
                arrivals.withLock { $0.place(path, at: index) }
                let slot = SlotHold(stageSlots[index])
                guard await slot.take() else {
                    action = journey.stopped()
                    continue
                }
                // Given back once this attempt's outcome is reported (or earlier, by a stage waiting for others).
                defer { slot.release() }
                if step.isIrreversible {
                    // Whatever the stage does (an external one cannot ask), it starts only while the item is this runner's.
                    do {
                        try await supply.secure(path)
                    } catch let lost as LeaseLost {
                        throw lost
                    } catch {
                        if !pending.isEmpty { try await store.commit(pending) }
                        reporter.report(.warning("\(PlainReporter.displayPath(path)): \(settings.redactor.redact("\(error)")); left for later"))
                        reporter.report(.itemLeft(path: path, stage: step.name))
                        return .left
                    }
                }
                try await store.commit(pending + [.stageStarted(path: path, stage: step.name, attempt: attempt)])
                pending = []
                reporter.report(.stageStarted(path: path, stage: step.name, attempt: attempt))
                let checkpoint = attempt > 1 ? try store.stageRecords(for: path)[step.name]?.checkpoint : records[step.name]?.checkpoint
                let began = ContinuousClock.now
                let (attemptResult, timedOut) = await attemptStage(step, index: index, item: item, attempt: attempt, workPath: workPath,
                                                                   records: records, checkpoint: checkpoint, itemStop: itemStop, supply: supply) {
                    slot.release()
                    self.arrivals.withLock { $0.settle(path) }
                    gaveWay()
                }
                arrivals.withLock { $0.settle(path) }
                watchForOutage(attemptResult, stage: step.name, path: path)
                switch attemptResult {
                case .success(.done(let stageOutputs)):
                    let outputs = settings.redactor.redact(stageOutputs)
                    var record = StageRecord(stage: step.name, status: .done, outputs: outputs)
                    record.updatedAt = Date().timeIntervalSince1970
                    records[step.name] = record
                    pending.append(.stageDone(path: path, stage: step.name, outputs: outputs))
                    let elapsed = ContinuousClock.now - began
                    reporter.report(.stageDone(path: path, stage: step.name,
                                               seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                    action = journey.stageSucceeded()
                case .success(.skip(let reason)):
                    action = journey.stageSkipped(reason: settings.redactor.redact(reason))
                case .failure(let failure):
                    lastError = settings.redactor.redact(failure.message)
                    lastCategory = failure.category
                    action = timedOut ? journey.stageTimedOut(random: &random)
                        : journey.stageFailed(failure, inputProducer: producerOfInput(before: index, records: records), random: &random)
                }

            case .retry(let index, let attempt, let wait):
                let step = steps[index]
                try await store.commit(pending + [.stageAttemptFailed(path: path, stage: step.name, attempt: attempt - 1, error: lastError)])
                pending = []
                reporter.report(.stageRetrying(path: path, stage: step.name, attempt: attempt, after: wait, error: lastError))
                action = await pause(wait, until: itemStop) ? journey.waitFinished() : journey.stopped()

            case .backTo(let index, let discarding):
                let names = discarding.map { steps[$0].name }
                for name in names {
                    if let file = records[name]?.outputs[StageOutputs.file]?.stringValue {
                        // `file` is already the work directory's (encoded) name: not to be encoded again.
                        try? FileManager.default.removeItem(atPath: settings.workdir + "/" + file)
                    }
                    records[name] = nil
                }
                try? FileManager.default.removeItem(atPath: workPath.partial)
                try await store.commit(pending + [.stagesReset(path: path, stages: names)])
                pending = []
                reporter.report(.wentBack(path: path, to: steps[index].name, reason: lastError))
                action = journey.proceedAfterBacktrack()

            case .complete:
                try await store.commit(pending + [.itemCompleted(path: path, stage: steps.last?.name)])
                reporter.report(.itemCompleted(path: path, size: item.size))
                return .completed(item.size)

            case .skip(let reason):
                // Not for this pipeline: what earlier stages staged for it is of no further use.
                for file in [workPath.absolute, workPath.partial] { try? FileManager.default.removeItem(atPath: file) }
                try await store.commit(pending + [.itemSkipped(path: path, reason: reason)])
                reporter.report(.itemSkipped(path: path, reason: reason))
                return .skipped

            case .fail(let index, let message):
                let step = steps[index]
                let error = settings.redactor.redact(message)
                let category = lastCategory ?? FailureClassifier.category(of: error)
                try await store.commit(pending + [
                    .stageAttemptFailed(path: path, stage: step.name, attempt: journey.attempt, error: error),
                    .itemFailed(path: path, stage: step.name, error: error, category: category, attempt: journey.attempt),
                ])
                let failures = try store.item(path)?.failures ?? 1
                failedThisRun.withLock { $0[path] = category }
                reporter.report(.itemFailed(path: path, stage: step.name, error: error, failures: failures,
                                            givenUp: failures >= settings.maxFailures))
                return .failed

            case .leave(let index):
                if !pending.isEmpty { try await store.commit(pending) }
                reporter.report(.itemLeft(path: path, stage: steps[index].name))
                return .left
            }
        }
    }

    /// Runs one attempt of a stage under its timeout; `timedOut` when the time was up before it ended
    /// (its failure is then the timeout's, `StageTimeout`).
    private func attemptStage(_ step: PipelineStep, index: Int, item: SourceItem, attempt: Int, workPath: WorkPath,
                              records: [String: StageRecord], checkpoint: [String: JSONValue]?, itemStop: StopSignal, supply: any WorkSupply,
                              waitingForOthers: @escaping @Sendable () -> Void) async -> (Result<StageResult, StageFailure>, timedOut: Bool) {
        let attemptStop = StopSignal(parent: itemStop)
        let watchdog = step.timeout.map { timeOut(attemptStop, StageTimeout(stage: step.name, limit: $0)) }
        defer { watchdog?.cancel() }
        let done = steps.filter { records[$0.name]?.status == .done }
        let producer = producerOfInput(before: steps.firstIndex { $0.name == step.name } ?? steps.count, records: records)
        let context = StageContext(
            stageName: step.name, item: item, attempt: attempt, workdir: settings.workdir, target: workPath,
            inputFile: producer.flatMap { records[steps[$0].name]?.outputs[StageOutputs.file]?.stringValue }.map { settings.workdir + "/" + $0 },
            earlierOutputs: Dictionary(uniqueKeysWithValues: done.map { ($0.name, records[$0.name]?.outputs ?? [:]) }),
            checkpoint: checkpoint, stop: attemptStop,
            events: ItemEventSink(path: item.path, stage: step.name, store: store, reporter: reporter, redactor: settings.redactor,
                                  slotReleased: waitingForOthers, mayFollow: { [weak self] in self?.othersMayFollow(stage: index) ?? false },
                                  mayFollowChange: { [arrivals] in arrivals.changes.next },
                                  supply: supply))
        do {
            let result = try await step.stage.run(context)
            return (.success(result), false)
        } catch let failure as StageFailure {
            if case .stopsRun(let cause) = failure.kind {
                requestStop(cause, reason: settings.redactor.redact(failure.message))
                return (.failure(failure), false)
            }
            if [.runStopping, .leaseLost].contains(itemStop.reason) { return (.failure(.interrupted), false) }
            // Cut off by its timeout: whatever the stage said as it stopped, the failure is the timeout's.
            if attemptStop.reason == .timedOut, let timeout = attemptStop.failure { return (.failure(timeout), true) }
            return (.failure(failure), false)
        } catch {
            if [.runStopping, .leaseLost].contains(itemStop.reason) { return (.failure(.interrupted), false) }
            if attemptStop.reason == .timedOut, let timeout = attemptStop.failure { return (.failure(timeout), true) }
            return (.failure(.retryable("\(error)")), false)
        }
    }

    /// Times `signal` out after the timeout's limit on the run's clock (cancel the task to disarm it).
    private func timeOut(_ signal: StopSignal, _ timeout: StageTimeout) -> Task<Void, Never> {
        Task { [clock = settings.clock] in
            guard let limit = timeout.limit, (try? await clock.sleep(for: limit.duration)) != nil else { return }
            signal.timeOut(timeout)
        }
    }

    /// The last done stage before `index` whose outputs name a local file.
    private func producerOfInput(before index: Int, records: [String: StageRecord]) -> Int? {
        (0..<min(index, steps.count)).last { position in
            guard let record = records[steps[position].name], record.status == .done else { return false }
            return record.outputs[StageOutputs.file] != nil
        }
    }

    /// Waits on the run's clock, woken at once when `signal` (the run's, by default) stops; false if it did.
    private func pause(_ wait: TimeSpan, until signal: StopSignal? = nil) async -> Bool {
        await (signal ?? stop).sleep(for: wait.duration, on: settings.clock)
    }
}
