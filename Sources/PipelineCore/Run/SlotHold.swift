import Synchronization

/// One item's place in a stage for one attempt: taken before the stage runs, given back exactly
/// once — when the attempt ends, or earlier when the stage says it only waits for others.
final class SlotHold: Sendable {
    private let slots: FairShare
    private let held = Mutex(false)

    init(_ slots: FairShare) { self.slots = slots }

    /// Waits for a place; false if the run stopped meanwhile.
    func take() async -> Bool {
        guard await slots.reserve(1) else { return false }
        held.withLock { $0 = true }
        return true
    }

    func release() {
        guard held.withLock({ held in defer { held = false }; return held }) else { return }
        slots.release(1)
    }
}
