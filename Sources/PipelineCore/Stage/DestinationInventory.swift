/// A stage that can say what its destination already holds of this pipeline's uploads, so a lost
/// state can be rebuilt from the destination (`pipeline state rebuild`) instead of uploading
/// everything again.
public protocol DestinationInventory: Stage {
    /// The name under which `item` is kept at the destination (how held items are matched).
    func destinationName(of item: SourceItem) -> String

    /// What the destination holds: the outputs this stage would have recorded, per held item, by
    /// destination name; and the stage memory a run that made them would have left.
    func inventory(stop: StopSignal, log: @escaping @Sendable (String) -> Void) async throws -> DestinationHoldings
}

/// What a destination holds of a pipeline's uploads.
public struct DestinationHoldings: Sendable {
    /// Per destination name, the stage outputs of each item held under it (in the destination's order).
    public var items: [String: [[String: JSONValue]]]
    /// Keys of the stage's memory (`StageContext.remember`) to set.
    public var memory: [String: String]

    public init(items: [String: [[String: JSONValue]]], memory: [String: String]) {
        self.items = items
        self.memory = memory
    }
}
