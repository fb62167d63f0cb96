import Testing
@testable import PipelineCore

@Suite("An item's journey through the stages")
struct ItemJourneyTests {
    static let quickRetry = RetryPolicy(attempts: 3, backoff: .list([TimeSpan(milliseconds: 30_000), TimeSpan(milliseconds: 60_000)]))
    static let plan = [
        ItemJourney.StagePlan(name: "fetch", retry: quickRetry),
        ItemJourney.StagePlan(name: "verify", retry: quickRetry),
        ItemJourney.StagePlan(name: "upload", retry: quickRetry, isIrreversible: true),
        ItemJourney.StagePlan(name: "cleanup", retry: quickRetry),
    ]

    @Test func aNewItemStartsAtTheFirstStageAndWalksToTheEnd() {
        var journey = ItemJourney(plan: Self.plan)
        #expect(journey.resume(done: [false, false, false, false]) { _ in true } == .run(stage: 0, attempt: 1))
        #expect(journey.stageSucceeded() == .run(stage: 1, attempt: 1))
        #expect(journey.stageSucceeded() == .run(stage: 2, attempt: 1))
        #expect(journey.stageSucceeded() == .run(stage: 3, attempt: 1))
        #expect(journey.stageSucceeded() == .complete)
    }

    @Test func resumesAtTheFirstStageNotDone() {
        var journey = ItemJourney(plan: Self.plan)
        #expect(journey.resume(done: [true, true, false, false]) { _ in true } == .run(stage: 2, attempt: 1))
    }

    @Test func aMissingFetchedFileSendsTheItemBackToFetch() {
        var journey = ItemJourney(plan: Self.plan)
        let action = journey.resume(done: [true, true, false, false]) { $0 != 0 }
        #expect(action == .backTo(stage: 0, discarding: [0, 1]))
        #expect(journey.proceedAfterBacktrack() == .run(stage: 0, attempt: 1))
    }

    @Test func anUploadedItemIsNeverUploadedAgainEvenIfItsFileIsGone() {
        var journey = ItemJourney(plan: Self.plan)
        // Upload done, cleanup not; the fetched file is gone (invalid) — cleanup runs, nothing earlier.
        #expect(journey.resume(done: [true, true, true, false]) { _ in false } == .run(stage: 3, attempt: 1))
    }

    @Test func aStageAddedBeforeACompletedUploadIsNotRun() {
        var journey = ItemJourney(plan: Self.plan)
        #expect(journey.resume(done: [true, false, true, true]) { _ in true } == .complete)
    }

    @Test func retryableFailuresWaitAsTheBackoffSaysThenFailTheRun() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [false, false, false, false]) { _ in true }
        #expect(journey.stageFailed(.retryable("426 connection closed"), inputProducer: nil, random: &random)
                == .retry(stage: 0, attempt: 2, after: TimeSpan(milliseconds: 30_000)))
        #expect(journey.stageFailed(.retryable("426 connection closed"), inputProducer: nil, random: &random)
                == .retry(stage: 0, attempt: 3, after: TimeSpan(milliseconds: 60_000)))
        #expect(journey.stageFailed(.retryable("426 connection closed"), inputProducer: nil, random: &random)
                == .fail(stage: 0, message: "426 connection closed (gave up after 3 attempts)"))
    }

    @Test func permanentFailuresFailTheRunAtOnce() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, false, false, false]) { _ in true }
        #expect(journey.stageFailed(.permanent("530 login incorrect"), inputProducer: 0, random: &random)
                == .fail(stage: 1, message: "530 login incorrect"))
    }

    @Test func anInterruptedStageLeavesTheItemWhereItIs() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, false, false, false]) { _ in true }
        #expect(journey.stageFailed(.interrupted, inputProducer: 0, random: &random) == .leave(stage: 1))
    }

    @Test func aWaitTheOtherSideAskedForIsHonouredWhenLongerThanTheBackoff() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, true, false, false]) { _ in true }
        let rateLimited = StageFailure(.retryable, "429", retryAfter: TimeSpan(milliseconds: 90_000))
        #expect(journey.stageFailed(rateLimited, inputProducer: 0, random: &random) == .retry(stage: 2, attempt: 2, after: TimeSpan(milliseconds: 90_000)))
        let shortHint = StageFailure(.retryable, "503", retryAfter: TimeSpan(milliseconds: 1000))
        #expect(journey.stageFailed(shortHint, inputProducer: 0, random: &random) == .retry(stage: 2, attempt: 3, after: TimeSpan(milliseconds: 60_000)))
    }

    @Test func aFailureThatStopsTheRunLeavesTheItemUncounted() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, true, false, false]) { _ in true }
        #expect(journey.stageFailed(.stopsRun(.quotaExhausted, "daily quota"), inputProducer: 0, random: &random) == .leave(stage: 2))
    }

    @Test func badInputGoesBackToTheProducerABoundedNumberOfTimes() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, false, false, false]) { _ in true }
        let mismatch = StageFailure(.badInput, "sha256 mismatch")
        #expect(journey.stageFailed(mismatch, inputProducer: 0, random: &random) == .backTo(stage: 0, discarding: [0, 1]))
        #expect(journey.proceedAfterBacktrack() == .run(stage: 0, attempt: 1))
        #expect(journey.stageSucceeded() == .run(stage: 1, attempt: 1))
        #expect(journey.stageFailed(mismatch, inputProducer: 0, random: &random) == .backTo(stage: 0, discarding: [0, 1]))
        _ = journey.proceedAfterBacktrack()
        _ = journey.stageSucceeded()
        #expect(journey.stageFailed(mismatch, inputProducer: 0, random: &random) == .fail(stage: 1, message: "sha256 mismatch"))
    }

    @Test func aStageCanBoundItsOwnBacktracks() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, false, false, false]) { _ in true }
        let mismatch = StageFailure(.badInput, "source and copy differ", backtrackLimit: 1)
        #expect(journey.stageFailed(mismatch, inputProducer: 0, random: &random) == .backTo(stage: 0, discarding: [0, 1]))
        _ = journey.proceedAfterBacktrack()
        _ = journey.stageSucceeded()
        #expect(journey.stageFailed(mismatch, inputProducer: 0, random: &random) == .fail(stage: 1, message: "source and copy differ"))
    }

    @Test func badInputNeverReachesBackPastAnUpload() {
        var random = SystemRandomNumberGenerator()
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, true, true, false]) { _ in true }
        #expect(journey.stageFailed(StageFailure(.badInput, "file vanished"), inputProducer: 0, random: &random)
                == .fail(stage: 3, message: "file vanished"))
    }

    @Test func aStageSkipSkipsTheItem() {
        var journey = ItemJourney(plan: Self.plan)
        _ = journey.resume(done: [true, true, false, false]) { _ in true }
        #expect(journey.stageSkipped(reason: "not a photo or video") == .skip(reason: "not a photo or video"))
    }
}
