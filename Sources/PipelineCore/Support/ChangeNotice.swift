import Synchronization

/// Tells waiters that something they watch has changed, so they look again then rather than
/// every few milliseconds. Take `next` before looking at the thing, then await it: a change
/// between the look and the wait opens it all the same.
public final class ChangeNotice: Sendable {
    private let current = Mutex(Latch())

    public init() {}

    /// Opens at the next change.
    public var next: Latch { current.withLock { $0 } }

    /// Something changed: wakes whoever awaits `next`.
    public func changed() {
        current.withLock { latch in
            defer { latch = Latch() }
            return latch
        }.open()
    }
}
