import Testing
@testable import PipelineCore

/// The journey's timer events: a stop, the end of a backoff wait, a stage that ran past its timeout.
extension ItemJourneyTests {
    static let timedPlan = [
        ItemJourney.StagePlan(name: "fetch", retry: quickRetry, timeout: TimeSpan(milliseconds: 2 * 3_600_000)),
        ItemJourney.StagePlan(name: "upload", retry: quickRetry, isIrreversible: true),
    ]

    @Test func aTimedOutStageIsRetriedAsATimeoutWithTheOneMessageThenFails() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.timedPlan)
        _ = journey.resume(done: [false, false]) { _ in true }
        #expect(journey.stageTimedOut(random: &random) == .retry(stage: 0, attempt: 2, after: TimeSpan(milliseconds: 30_000)))
        #expect(journey.waitFinished() == .run(stage: 0, attempt: 2))
        #expect(journey.stageTimedOut(random: &random) == .retry(stage: 0, attempt: 3, after: TimeSpan(milliseconds: 60_000)))
        #expect(journey.waitFinished() == .run(stage: 0, attempt: 3))
        #expect(journey.stageTimedOut(random: &random) == .fail(stage: 0, message: "fetch timed out after 2h (gave up after 3 attempts)"))
    }

    @Test func theTimeoutFailureIsRetryableAndCategorisedAsATimeout() {
        let failure = StageTimeout(stage: "fetch", limit: TimeSpan(milliseconds: 5_400_000)).failure
        #expect(failure.kind == .retryable && failure.category == .timeout && failure.message == "fetch timed out after 1h30m")
    }

    @Test func theEndOfABackoffWaitRunsTheSameTryItAnnounced() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.timedPlan)
        _ = journey.resume(done: [true, false]) { _ in true }
        #expect(journey.stageFailed(.retryable("503"), inputProducer: nil, random: &random)
                == .retry(stage: 1, attempt: 2, after: TimeSpan(milliseconds: 30_000)))
        #expect(journey.waitFinished() == .run(stage: 1, attempt: 2))
        #expect(journey.stageSucceeded() == .complete)
    }

    @Test func aStopDuringABackoffWaitOrBeforeAStageLeavesTheItemWhereItIs() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.timedPlan)
        _ = journey.resume(done: [false, false]) { _ in true }
        #expect(journey.stopped() == .leave(stage: 0))
        _ = journey.stageSucceeded()
        _ = journey.stageFailed(.retryable("503"), inputProducer: nil, random: &random)
        #expect(journey.stopped() == .leave(stage: 1))
    }
}
