import Foundation
import Testing
@testable import PipelineCore

/// A stop wakes whoever waits for it — tasks, threads, the waiters of signals below it, a sleep on
/// the run's clock — at once, and a lease's end wakes them without anyone looking.
@Suite("A stop signal's waiters", .timeLimit(.minutes(1)))
struct StopSignalWaitersTests {
    @Test func aStopWakesTheTasksAwaitingItAndThoseOfTheSignalsBelow() async {
        let clock = TestClock()
        let run = StopSignal()
        let item = StopSignal(parent: run)
        let attempt = StopSignal(parent: item)
        // Sleeping on the clock (so surely waiting) when the run stops, two levels up.
        async let attemptSlept = attempt.sleep(for: .seconds(3_600), on: clock)
        async let runSlept = run.sleep(for: .seconds(3_600), on: clock)
        await clock.sleepers(atLeast: 2)
        run.stop(.runStopping)
        #expect(await (attemptSlept, runSlept) == (false, false))
        #expect(attempt.reason == .runStopping && attempt.failure == .interrupted)
    }

    @Test func aSignalMadeBelowAStoppedOneIsStoppedAlready() async {
        let run = StopSignal()
        run.stop(.runStopping)
        let late = StopSignal(parent: run)
        await late.stopped()
        #expect(late.isStopped)
    }

    @Test func aSleepOnTheRunsClockEndsWhenTheClockPassesItAndAtOnceOnAStop() async {
        let clock = TestClock()
        let signal = StopSignal()
        async let slept = signal.sleep(for: .seconds(600), on: clock)
        await clock.sleepers(atLeast: 1)
        clock.advance(by: .seconds(600))
        #expect(await slept)

        async let stoppedSleep = signal.sleep(for: .seconds(600), on: clock)
        await clock.sleepers(atLeast: 1)
        signal.stop(.runStopping)
        #expect(await stoppedSleep == false)
        #expect(clock.sleeperCount == 0, "the stopped sleep no longer waits on the clock")
    }

    @Test func aThreadWaitingOnTheSignalIsWokenByAStop() async {
        let signal = StopSignal()
        let woke = Latch()
        let waited = Thread {
            _ = signal.wait(for: .seconds(3_600))
            woke.open()
        }
        waited.start()
        signal.stop(.runStopping)
        await woke.opened()
        #expect(signal.wait(for: .seconds(3_600)) == false, "a stopped signal does not wait at all")
    }

    @Test func aLeasesEndWakesTheWaitersAndIsSeenAtTheNextCheck() async {
        let run = StopSignal()
        let item = StopSignal(parent: run)
        let attempt = StopSignal(parent: item)
        item.leaseEnds(at: .now + .milliseconds(50))
        await attempt.stopped()
        #expect(attempt.reason == .leaseLost && attempt.failure == .interrupted && !run.isStopped)

        // A process frozen past its lease sees it ended at its next check, timer or not.
        let frozen = StopSignal()
        frozen.leaseEnds(at: .now - .milliseconds(1))
        #expect(throws: StageFailure.interrupted) { try frozen.check() }
    }

    @Test func aMovedLeaseDoesNotEndAtItsOldTime() async {
        let item = StopSignal()
        item.leaseEnds(at: .now + .milliseconds(50))
        item.leaseEnds(at: .now + .seconds(3_600))
        // A lease that ends after the first one's old end: once it has, the moved one has not.
        let later = StopSignal()
        later.leaseEnds(at: .now + .milliseconds(150))
        await later.stopped()
        #expect(!item.isStopped)
    }

    @Test func aTimedOutSignalFailsWithTheTimeoutsOneMessage() {
        let item = StopSignal()
        let attempt = StopSignal(parent: item)
        attempt.timeOut(StageTimeout(stage: "upload", limit: TimeSpan(milliseconds: 1_800_000)))
        #expect(throws: StageTimeout(stage: "upload", limit: TimeSpan(milliseconds: 1_800_000)).failure) { try attempt.check() }
        #expect(attempt.failure?.message == "upload timed out after 30m" && attempt.failure?.category == .timeout)
        #expect(!item.isStopped)
    }
}
