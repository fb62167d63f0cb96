import Foundation

/// `pipeline state rebuild`: makes a state from what the destination holds, for a job whose state
/// was lost (an expired CI artifact, a deleted file) — instead of uploading everything again.
///
/// The source is listed; each item not completed in the state is matched by its destination name
/// against what the destination stage reports. A name held as often as the source lists it marks
/// those items completed; a name held, but not as often, is ambiguous (which of them were
/// uploaded?) and those items are recorded as skipped with the reason, for a person to decide; a
/// name not held is left for the next run to upload.
public struct StateRebuilder: Sendable {
    public struct Report: Sendable, Equatable {
        public var completed = 0
        public var ambiguous: [String] = []
        public var toUpload = 0
        public var alreadyCompleted = 0
    }

    public var catalog: any StageCatalog

    public init(catalog: any StageCatalog) { self.catalog = catalog }

    public func rebuild(_ pipeline: PipelineFile, store: any StateStore, log: @escaping @Sendable (String) -> Void) async throws -> Report {
        let factory = StageFactory(catalog: catalog)
        let steps = try pipeline.stages.map { (definition: $0, stage: try factory.stage($0, in: pipeline)) }
        guard let index = steps.lastIndex(where: { $0.stage is any DestinationInventory }),
              let destination = steps[index].stage as? any DestinationInventory else {
            throw PipelineError(.usage, "no stage of this pipeline can say what its destination holds",
                                hint: "rebuild works with google-photos; restore the state from a copy instead")
        }
        let stageName = steps[index].definition.name
        let stop = StopSignal()
        let selected = try await SourceListing.selected(pipeline, catalog: factory.catalog, stop: stop, log: log)
        _ = try store.recordListing(selected)
        let holdings: DestinationHoldings
        do {
            holdings = try await destination.inventory(stop: stop, log: log)
        } catch let failure as StageFailure {
            throw PipelineError(.sourceUnavailable, "cannot read what the destination holds: \(failure.message)")
        }

        var report = Report()
        let records = Dictionary(try store.allItems().map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let open = selected.filter { item in
            guard records[item.path]?.status == .completed else { return true }
            report.alreadyCompleted += 1
            return false
        }
        var transitions: [StateTransition] = []
        for (name, items) in Dictionary(grouping: open, by: destination.destinationName) {
            let held = holdings.items[name] ?? []
            switch held.count {
            case 0:
                report.toUpload += items.count
            case items.count:
                for (item, outputs) in zip(items.sorted { $0.path < $1.path }, held) {
                    transitions += [.stageDone(path: item.path, stage: stageName, outputs: outputs.merging(["rebuilt": .bool(true)]) { _, new in new }),
                                    .itemCompleted(path: item.path, stage: steps.last?.definition.name)]
                    report.completed += 1
                }
            default:
                for item in items {
                    transitions.append(.itemSkipped(path: item.path, reason: """
                        state rebuild: the source has \(items.count) files named '\(name)', the destination \(held.count): which of them \
                        were uploaded cannot be told. Look, then `pipeline retry '\(item.path)'` to upload it, or leave it skipped
                        """))
                    report.ambiguous.append(item.path)
                }
            }
        }
        try store.commitSynchronously(transitions)
        try store.setStageMemory(stage: stageName, holdings.memory)
        return report
    }
}
