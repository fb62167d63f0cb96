/// The rules of one item's way through the stages, as a pure state machine.
///
/// It takes events (where the state says the item is, a stage finished, failed or timed out, a
/// backoff wait finished, the run stopped) and returns the next action; the orchestrator performs
/// the action and records it. Timers are actions too: `.retry(after:)` is a wait to perform, and
/// a `.run` is performed under its stage's `timeout` (`StagePlan.timeout`). No I/O, no clock, no
/// sleeping: every rule of resumption is tested by feeding events and checking actions.
public struct ItemJourney: Sendable {
    /// What the journey needs to know of a stage.
    public struct StagePlan: Sendable, Equatable {
        public var name: String
        public var retry: RetryPolicy
        public var isIrreversible: Bool
        /// How long one try may take before it counts as failed (`stageTimedOut`); nil: no limit.
        public var timeout: TimeSpan?

        public init(name: String, retry: RetryPolicy = .default, isIrreversible: Bool = false, timeout: TimeSpan? = nil) {
            self.name = name
            self.retry = retry
            self.isIrreversible = isIrreversible
            self.timeout = timeout
        }
    }

    public enum Action: Sendable, Equatable {
        /// Run this stage (index into the plan), as try number `attempt` of this run.
        case run(stage: Int, attempt: Int)
        /// Wait, then run the stage again.
        case retry(stage: Int, attempt: Int, after: TimeSpan)
        /// Earlier output is unusable: forget the records of `stages` and run the first of them.
        case backTo(stage: Int, discarding: [Int])
        /// Every stage is done.
        case complete
        /// A stage said the item is not for this pipeline.
        case skip(reason: String)
        /// The item failed this run in `stage`; it counts one failed run.
        case fail(stage: Int, message: String)
        /// The run is stopping; leave the item where it is.
        case leave(stage: Int)
    }

    public let plan: [StagePlan]
    public private(set) var stage = 0
    public private(set) var attempt = 1
    /// Times this run went back for bad input, bounded so a stage that always rejects cannot loop.
    private var backtracks = 0

    public init(plan: [StagePlan]) { self.plan = plan }

    /// Where to begin, given which stages the state records as done and whether their outputs are
    /// still usable.
    ///
    /// The item continues at its first stage not done. Stages after the last completed irreversible
    /// stage (an upload) must still have valid outputs, or the item goes back to the first invalid
    /// one; stages before such a stage are never checked or redone, even if their files are gone.
    public mutating func resume(done: [Bool], outputsValid: (Int) -> Bool) -> Action {
        let barrier = plan.indices.last { done[$0] && plan[$0].isIrreversible } ?? -1
        let next = plan.indices.first { $0 > barrier && !done[$0] } ?? plan.count
        attempt = 1
        if let invalid = (barrier + 1..<next).first(where: { !outputsValid($0) }) {
            stage = invalid
            return .backTo(stage: invalid, discarding: Array(invalid..<next))
        }
        stage = next
        return next == plan.count ? .complete : .run(stage: next, attempt: 1)
    }

    /// After `.backTo`, the stage to run.
    public mutating func proceedAfterBacktrack() -> Action {
        attempt = 1
        return .run(stage: stage, attempt: 1)
    }

    public mutating func stageSucceeded() -> Action {
        stage += 1
        attempt = 1
        return stage == plan.count ? .complete : .run(stage: stage, attempt: 1)
    }

    public mutating func stageSkipped(reason: String) -> Action { .skip(reason: reason) }

    /// The stage's try ran past its `timeout`: a retryable failure worded by `StageTimeout`,
    /// whatever the stage itself said as it was cut off.
    public mutating func stageTimedOut(random: inout some RandomNumberGenerator) -> Action {
        stageFailed(StageTimeout(stage: plan[stage].name, limit: plan[stage].timeout).failure, inputProducer: nil, random: &random)
    }

    /// The wait of a `.retry` is over: run the stage again.
    public mutating func waitFinished() -> Action { .run(stage: stage, attempt: attempt) }

    /// The run stops (or the item is no longer this runner's) before the next stage, or during a
    /// wait: the item stays where it is, resumable.
    public mutating func stopped() -> Action { .leave(stage: stage) }

    /// A stage failed. `inputProducer` is the stage that made the item's current local file (for
    /// bad input); `random` draws backoff jitter.
    public mutating func stageFailed(_ failure: StageFailure, inputProducer: Int?, random: inout some RandomNumberGenerator) -> Action {
        let policy = plan[stage].retry
        switch failure.kind {
        case .interrupted, .stopsRun:
            return .leave(stage: stage)
        case .permanent:
            return .fail(stage: stage, message: failure.message)
        case .retryable:
            guard attempt < policy.attempts else {
                return .fail(stage: stage, message: "\(failure.message) (gave up after \(attempt) attempt\(attempt == 1 ? "" : "s"))")
            }
            let wait = max(policy.delay(afterAttempt: attempt, using: &random), failure.retryAfter ?? TimeSpan(milliseconds: 0))
            attempt += 1
            return .retry(stage: stage, attempt: attempt, after: wait)
        case .badInput:
            // Go back to the producer of the file, unless an irreversible stage stands between.
            let barrier = (0..<stage).last { plan[$0].isIrreversible } ?? -1
            let limit = failure.backtrackLimit ?? (policy.attempts - 1)
            guard let producer = inputProducer, producer > barrier, producer < stage, backtracks < limit else {
                return .fail(stage: stage, message: failure.message)
            }
            backtracks += 1
            let discarded = Array(producer...stage)
            stage = producer
            attempt = 1
            return .backTo(stage: producer, discarding: discarded)
        }
    }
}
