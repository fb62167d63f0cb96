/// How a listing's batches go into a state, the same for a run and a dry run: the source's
/// `include`/`exclude` and the removal of duplicate paths (`SourceSelection.select`), the state's
/// listing rules (`recordListing`: a path is one item, at the place it was first listed), and the
/// schedule's classes of the items (`ScheduledClaims.classify`).
///
/// A dry run records its listing into an in-memory copy of the state through this, and claims from
/// it with the run's own `ClaimPlan`: so it shows the items the run would take, in its order.
struct ListingIntake: Sendable {
    let selection: SourceSelection
    let scheduled: ScheduledClaims

    /// Records the batch's selected items as listed in `generation`; returns them and what changed.
    func record(_ batch: [SourceItem], generation: Int64) throws -> (selected: [SourceItem], changes: ListingChanges) {
        let selected = selection.select(batch)
        guard !selected.isEmpty else { return ([], ListingChanges()) }
        let changes = try scheduled.store.recordListing(selected, generation: generation)
        try scheduled.classify(selected)
        return (selected, changes)
    }
}
