/// An item a run works on, and whether the state may hold stage records for it (saves a query per
/// item for the many that are new).
struct WorkItem: Sendable {
    var item: SourceItem
    var mayHaveStageRecords: Bool
}
