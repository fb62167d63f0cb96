/// Tells an outage from failing items: when a stage's tries fail again and again, across several
/// different items, with no success in between, the trouble is the service, not the items. The
/// run then stops without counting those failures, instead of spending every item's
/// `max_failures` on one bad night (an unreachable server, DNS, 5xx from everything).
///
/// Pure: fed the outcome of every stage attempt, it answers whether the circuit is now open.
public struct CircuitBreaker: Sendable, Equatable {
    /// Why the run stops: the stage, the items whose tries failed in the streak, the last error.
    public struct Trip: Sendable, Equatable {
        public var stage: String
        public var items: [String]
        public var error: String
    }

    /// Distinct items that must fail in a row (never fewer than two: one item alone is just itself).
    public let threshold: Int
    /// A run of one item can never tell an outage from a bad item.
    private let canTell: Bool
    private var streaks: [String: [String]] = [:]
    public private(set) var trip: Trip?

    /// `items`: how many items the run has to do.
    public init(items: Int, threshold: Int = 3) {
        self.threshold = max(2, min(threshold, items))
        canTell = items >= 2
    }

    /// The service answered: a success, or a refusal that is about the item (a missing file).
    public mutating func answered(stage: String) {
        streaks[stage] = nil
    }

    /// A try that may succeed later failed (no connection, a timeout, a 5xx). Returns the trip
    /// when this failure opens the circuit.
    public mutating func failedToReach(stage: String, item: String, error: String) -> Trip? {
        guard trip == nil, canTell else { return nil }
        var streak = streaks[stage] ?? []
        if !streak.contains(item) { streak.append(item) }
        streaks[stage] = streak
        guard streak.count >= threshold else { return nil }
        trip = Trip(stage: stage, items: streak, error: error)
        return trip
    }
}
