import Synchronization

/// Tells running work to stop: awaited by tasks (`stopped()`, `sleep(for:on:)`) and blocking
/// threads (`wait(for:)`), and readable without waiting (`isStopped`, `check()`) by a copy loop
/// between chunks.
///
/// Signals nest: a stage attempt's signal is stopped when the whole run stops, or on its own when
/// the stage's timeout expires; `reason` tells the two apart. A stop reaches the waiters of every
/// signal below it at once, without anyone looking again.
public final class StopSignal: Sendable {
    public enum Reason: Sendable, Equatable {
        /// The run is ending (SIGINT, SIGTERM, time budget): work stays resumable.
        case runStopping
        /// This stage exceeded its `timeout:`.
        case timedOut
        /// Another runner took the item over (its lease in a shared state ended): this runner lets
        /// go of it; the item is not failed.
        case leaseLost
    }

    private struct State {
        var reason: Reason?
        var timeout: StageTimeout?
        var leaseEnds: ContinuousClock.Instant?
        var children: [ObjectIdentifier: WeakSignal] = [:]
    }

    private struct WeakSignal {
        weak var signal: StopSignal?
    }

    private let parent: StopSignal?
    private let state = Mutex(State())
    /// Opens when this signal or one above it stops.
    private let latch = Latch()

    public init(parent: StopSignal? = nil) {
        self.parent = parent
        parent?.adopt(self)
    }

    deinit {
        parent?.state.withLock { _ = $0.children.removeValue(forKey: ObjectIdentifier(self)) }
    }

    public func stop(_ reason: Reason) {
        stop(reason, timeout: reason == .timedOut ? StageTimeout(stage: "the stage", limit: nil) : nil)
    }

    /// Stops with `timedOut`, remembering which limit was passed (for `failure`).
    public func timeOut(_ timeout: StageTimeout) {
        stop(.timedOut, timeout: timeout)
    }

    private func stop(_ reason: Reason, timeout: StageTimeout?) {
        let first = state.withLock { current -> Bool in
            guard current.reason == nil else { return false }
            current.reason = reason
            current.timeout = timeout
            return true
        }
        if first { wake() }
    }

    /// Stops with `leaseLost` by itself once `instant` passes, unless moved later first: a held
    /// lease's end by this process's own clock, so that work wakened after a freeze (SIGSTOP, a
    /// suspended VM) stops at its next check, before any heartbeat could tell it so; waiters are
    /// woken when it passes (each wait is bounded by it: no timer runs for a signal nobody awaits,
    /// so a run holding thousands of leases keeps no task per lease).
    func leaseEnds(at instant: ContinuousClock.Instant) {
        state.withLock { $0.leaseEnds = instant }
    }

    /// The earliest lease end of this signal and those above it: when a wait must look again.
    private var leaseDeadline: ContinuousClock.Instant? {
        let own = state.withLock { $0.leaseEnds }
        guard let above = parent?.leaseDeadline else { return own }
        return own.map { min($0, above) } ?? above
    }

    public var reason: Reason? {
        let (own, leaseJustEnded) = state.withLock { state -> (Reason?, Bool) in
            if state.reason == nil, let end = state.leaseEnds, ContinuousClock.now >= end {
                state.reason = .leaseLost
                return (.leaseLost, true)
            }
            return (state.reason, false)
        }
        if leaseJustEnded { wake() }
        return own ?? parent?.reason
    }

    public var isStopped: Bool { reason != nil }

    /// What a stage that stops now has failed with: nil while not stopped, `interrupted` when the
    /// run stops or the lease ended, the timeout's failure (`StageTimeout`) when the time was up.
    public var failure: StageFailure? {
        _ = reason  // notices a lease that has ended
        let own = state.withLock { state -> StageFailure? in
            switch state.reason {
            case nil: nil
            case .runStopping?, .leaseLost?: .interrupted
            case .timedOut?: (state.timeout ?? StageTimeout(stage: "the stage", limit: nil)).failure
            }
        }
        return own ?? parent?.failure
    }

    /// Throws the matching `StageFailure` when stopped; call between chunks of work.
    public func check() throws(StageFailure) {
        if let failure { throw failure }
    }

    /// Returns once stopped (at once if stopped already), or when the task is cancelled.
    public func stopped() async {
        while !isStopped, !Task.isCancelled {
            guard let end = leaseDeadline else { return await latch.opened() }
            // Woken by a stop, or at the lease's end to look again (`isStopped` notices it and
            // wakes every waiter below); a lease moved later meanwhile is waited for anew.
            _ = await latch.opened(within: max(.zero, ContinuousClock.now.duration(to: end)), on: SystemRunClock())
        }
    }

    /// Waits `duration` on `clock`, waking at once on a stop: true when the time passed, false
    /// when stopped (or the task was cancelled) first.
    public func sleep(for duration: Duration, on clock: any RunClock) async -> Bool {
        if isStopped { return false }
        let slept = await Race.first {
            (try? await clock.sleep(for: duration)) != nil
        } or: {
            await self.stopped()
            return false
        }
        return slept && !isStopped && !Task.isCancelled
    }

    /// Blocks the calling thread for `duration` (a rate limit, a server's Retry-After), waking at
    /// once on a stop: true when the time passed, false when stopped first. Never from a task.
    public func wait(for duration: Duration) -> Bool {
        let deadline = ContinuousClock.now + duration
        while !isStopped {
            let now = ContinuousClock.now
            if now >= deadline { return true }
            // Looks again at the lease's end, if that comes first (`isStopped` notices it).
            if latch.wait(for: now.duration(to: min(deadline, leaseDeadline ?? deadline))) { return false }
        }
        return false
    }

    /// Takes `child` on: it is woken when this signal stops, at once if it has already.
    private func adopt(_ child: StopSignal) {
        state.withLock { $0.children[ObjectIdentifier(child)] = WeakSignal(signal: child) }
        if latch.isOpen { child.wake() }
    }

    /// Wakes this signal's waiters and those of every signal below it.
    private func wake() {
        guard latch.open() else { return }
        let children = state.withLock { $0.children.values.compactMap(\.signal) }
        for child in children { child.wake() }
    }
}
