/// One item as a state holds it: its record and every stage record, as they move between stores.
public struct StoredItem: Sendable, Equatable {
    public var record: ItemRecord
    /// By stage name.
    public var stages: [String: StageRecord]

    public init(record: ItemRecord, stages: [String: StageRecord] = [:]) {
        self.record = record
        self.stages = stages
    }
}
