import Foundation

/// Copies a whole state from one store to another, whatever their drivers, through the
/// `StateStore` protocol alone (`pipeline state push` / `pull`, `saveCopy` of a server state).
///
/// What is copied: every item in listed order with every field, its stage records (outputs,
/// checkpoints, errors, process ids) and its failure history, the run history, the metadata (the owning pipeline, stage memories such as
/// the Google stage's album ledger) and the counters (`spend`'s quotas). What is not: the store's
/// own marks (`StoreMetadataKeys.own`, the target keeps its own), and what belongs to runners at
/// work on a shared state (leases, roles, listing generations, a listing's `extra`): a shared
/// target gets the items as one listing generation, complete, and its first runner lists anew.
///
/// Items move a page at a time (`pageSize`), each page written in one transaction, so a million
/// items are never in memory at once. The copy as a whole is not one transaction: a failed copy
/// leaves the target part-filled (`copyToNewFile` removes its file; a server target is refilled
/// with `pipeline state push --replace`).
public struct StateCopier: Sendable {
    public let pageSize: Int

    /// What a copy moved.
    public struct Report: Sendable, Equatable {
        public var items = 0
        public var stageRecords = 0
        public var metadataEntries = 0
        public var counters = 0
        public var runs = 0
        public init() {}
    }

    /// `pageSize` items per read and per write transaction (`ItemPage.limits`).
    public init(pageSize: Int = 1000) throws {
        try ItemPage.check(pageSize)
        self.pageSize = pageSize
    }

    /// Copies everything of `source` into `target` (which should hold nothing: items already
    /// there are replaced whole, metadata and counters overwritten, anything else kept);
    /// `progress` hears the items copied so far after each page.
    @discardableResult
    public func copy(from source: any StateStore, to target: any StateStore, progress: (Int) -> Void = { _ in }) throws -> Report {
        var report = Report()
        let shared = target as? any SharedStateStore
        let generation = try shared?.beginListing()
        var cursor: ItemPage.Cursor?
        repeat {
            let page = try source.itemPage(after: cursor, limit: pageSize)
            if !page.items.isEmpty { try target.storeItems(page.items) }
            report.items += page.items.count
            report.stageRecords += page.items.reduce(0) { $0 + $1.stages.count }
            progress(report.items)
            cursor = page.next
        } while cursor != nil
        if let shared, let generation { try shared.finishListing(generation) }
        let metadata = try source.metadataEntries().filter { !StoreMetadataKeys.own.contains($0.key) }
        if !metadata.isEmpty { try target.setMetadata(metadata.mapValues { Optional($0) }) }
        report.metadataEntries = metadata.count
        let counters = try source.counters()
        if !counters.isEmpty { try target.setCounters(counters) }
        report.counters = counters.count
        // Every run: a history is small (a row a run), and run numbers go on from the last.
        let runs = try source.runs(limit: Self.runsCopied)
        if !runs.isEmpty { try target.storeRuns(runs) }
        report.runs = runs.count
        return report
    }

    /// The most runs a copy carries (the latest): far more than a transfer makes.
    static let runsCopied = 1_000_000

    /// Whether `store` holds nothing a copy would bring: no item, metadata entry (but the store's
    /// own), counter or run.
    public static func holdsNothing(_ store: any StateStore) throws -> Bool {
        try store.itemPage(after: nil, limit: 1).items.isEmpty
            && store.metadataEntries().keys.allSatisfy(StoreMetadataKeys.own.contains)
            && store.counters().isEmpty && store.runs(limit: 1).isEmpty
    }

    /// Copies `source` into a new state file at `path`, which must not exist: written beside it
    /// under a temporary name and put in place whole at the end, so a failed copy leaves nothing
    /// at `path` and a file that appeared there meanwhile is never replaced.
    @discardableResult
    public func copyToNewFile(from source: any StateStore, path: String, progress: (Int) -> Void = { _ in }) throws -> Report {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw PipelineError(.usage, "'\(path)' already exists; a state is copied into a new file only",
                                hint: "name a file that does not exist yet (or move the old one away first)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let partial = (directory as NSString).appendingPathComponent(".\((path as NSString).lastPathComponent).partial-\(UUID().uuidString)")
        let removePartial = { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) } }
        let report: Report
        do {
            let target = try SQLiteStateStore(path: partial, create: true)
            do {
                report = try copy(from: source, to: target, progress: progress)
                try target.close()
            } catch {
                try? target.close()
                throw error
            }
            // link(2) refuses an existing name: no file that appeared meanwhile is overwritten.
            guard link(partial, path) == 0 else {
                throw PipelineError(.io, "cannot put the copy at '\(path)': \(String(cString: strerror(errno)))",
                                    hint: "check that the folder is writable and that no file of that name appeared meanwhile")
            }
        } catch {
            removePartial()
            throw error
        }
        removePartial()
        return report
    }
}
