/// One item as a state holds it: its record, every stage record and its failure history, as they
/// move between stores.
public struct StoredItem: Sendable, Equatable {
    public var record: ItemRecord
    /// By stage name.
    public var stages: [String: StageRecord]
    /// Its last failures (`FailureEvidence.limit` at most), oldest first.
    public var failures: [FailureEvidence]

    public init(record: ItemRecord, stages: [String: StageRecord] = [:], failures: [FailureEvidence] = []) {
        self.record = record
        self.stages = stages
        self.failures = failures
    }
}
