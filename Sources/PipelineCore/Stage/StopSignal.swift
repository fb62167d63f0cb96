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
    }

    private let parent: StopSignal?
    private let state = Mutex<Reason?>(nil)

    public init(parent: StopSignal? = nil) { self.parent = parent }

    public func stop(_ reason: Reason) {
        state.withLock { current in
            if current == nil { current = reason }
        }
    }

    public var reason: Reason? { state.withLock { $0 } ?? parent?.reason }
    public var isStopped: Bool { reason != nil }

    /// Throws the matching `StageFailure` when stopped; call between chunks of work.
    public func check() throws(StageFailure) {
        switch reason {
        case nil: return
        case .runStopping: throw StageFailure.interrupted
        case .timedOut: throw StageFailure.retryable("the stage timed out")
        }
    }
}
