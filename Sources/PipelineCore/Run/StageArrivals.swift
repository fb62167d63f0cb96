/// Which items may still come to a stage in this run: what a stage that waits for others (an
/// upload waiting for its batch to fill) asks before it goes without them.
///
/// An item counts for a stage while it is before it, or at it and not settled there: on its way in
/// (waiting for a place, writing its start) or working in it. It settles when it waits for others
/// (`StageContext.waitingForOthers`) or its attempt ends; an item backing off before another
/// attempt does not hold a batch back. A worker that has taken an item from the supply but not
/// placed it yet counts like an item not started: both can start only while the disk budget lets
/// them.
struct StageArrivals: Sendable {
    private struct Place: Sendable {
        var stage: Int
        var settled = false
    }

    private var places: [String: Place] = [:]
    /// Workers between asking the supply for an item and placing it (or learning there is none).
    private var takers = 0

    /// A worker asks the supply for its next item.
    mutating func taking() { takers += 1 }
    /// The supply had nothing for it, or the item did not start.
    mutating func tookNothing() { takers -= 1 }
    /// The worker's item starts, at `stage`.
    mutating func placeTaken(_ path: String, at stage: Int) {
        takers -= 1
        place(path, at: stage)
    }

    /// The item is on its way into `stage` (a new attempt there, or the next stage).
    mutating func place(_ path: String, at stage: Int) { places[path] = Place(stage: stage) }
    /// The item waits for others at its stage, or its attempt there ended.
    mutating func settle(_ path: String) { places[path]?.settled = true }
    /// The item is done with this run.
    mutating func remove(_ path: String) { places[path] = nil }

    /// Whether an item other than the settled ones may still come to `stage`: `supplyHasMore` when
    /// the supply may hand out more items, `startsBlocked` when none can start before an item ends
    /// (the disk budget is taken up).
    func othersMayCome(to stage: Int, supplyHasMore: Bool, startsBlocked: Bool) -> Bool {
        if !startsBlocked, supplyHasMore || takers > 0 { return true }
        return places.values.contains { $0.stage < stage || ($0.stage == stage && !$0.settled) }
    }
}
