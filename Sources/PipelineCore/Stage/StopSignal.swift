import Synchronization

/// A flag that tells running work to stop, readable from any thread (a copy loop, a child-process
/// watcher) without touching the async world.
///
/// Signals nest: a stage attempt's signal is stopped when the whole run stops, or on its own when
/// the stage's timeout expires; `reason` tells the two apart.
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

    private let parent: StopSignal?
    private let state = Mutex<(reason: Reason?, leaseEnds: ContinuousClock.Instant?)>((nil, nil))

    public init(parent: StopSignal? = nil) { self.parent = parent }

    public func stop(_ reason: Reason) {
        state.withLock { current in
            if current.reason == nil { current.reason = reason }
        }
    }

    /// Stops with `leaseLost` by itself once `instant` passes, unless moved later first: a held
    /// lease's end by this process's own clock, so that work wakened after a freeze (SIGSTOP, a
    /// suspended VM) stops at its next check, before any heartbeat could tell it so.
    func leaseEnds(at instant: ContinuousClock.Instant) {
        state.withLock { $0.leaseEnds = instant }
    }

    public var reason: Reason? {
        let own = state.withLock { state -> Reason? in
            if state.reason == nil, let end = state.leaseEnds, ContinuousClock.now >= end { state.reason = .leaseLost }
            return state.reason
        }
        return own ?? parent?.reason
    }
    public var isStopped: Bool { reason != nil }

    /// Throws the matching `StageFailure` when stopped; call between chunks of work.
    public func check() throws(StageFailure) {
        switch reason {
        case nil: return
        case .runStopping, .leaseLost: throw StageFailure.interrupted
        case .timedOut: throw StageFailure.retryable("the stage timed out")
        }
    }
}
