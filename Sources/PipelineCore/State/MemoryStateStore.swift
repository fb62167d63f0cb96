import Foundation
import Synchronization

/// The reference state driver: everything in memory, kept by the same `ItemLedger` rules.
///
/// For tests that need a state but no file (and as the simplest reading of the `StateStore`
/// contract). Nothing survives the process; `saveCopy` is refused (see there).
public final class MemoryStateStore: StateStore {
    private let contents: Mutex<Contents?>
    private let now: @Sendable () -> Double

    /// One item as held: where it was first listed, its record and its stage records.
    private struct Entry {
        var listedOrder: Int
        var item: ItemRecord
        var stages: [String: StageRecord]
    }

    private struct Contents {
        var entries: [String: Entry] = [:]
        /// Paths by listed order; a slot whose entry has another order was forgotten (or re-listed later).
        var listed: [String] = []
        var metadata: [String: String] = [:]

        func ledger(_ path: String) -> ItemLedger {
            let entry = entries[path]
            return ItemLedger(path: path, item: entry?.item, stages: entry?.stages ?? [:])
        }

        /// Stores what the rules decided.
        mutating func store(_ ledger: ItemLedger) {
            guard !ledger.changes.isEmpty else { return }
            guard let item = ledger.item else {
                entries[ledger.path] = nil
                return
            }
            if var entry = entries[ledger.path] {
                entry.item = item
                entry.stages = ledger.stages
                entries[ledger.path] = entry
            } else {
                entries[ledger.path] = Entry(listedOrder: listed.count, item: item, stages: ledger.stages)
                listed.append(ledger.path)
            }
        }
    }

    /// An empty state; `now` gives the time transitions are stamped with (seconds since 1970).
    public init(now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.contents = Mutex(Contents(metadata: ["format": SQLiteStateStore.formatMarker, "schema": SQLiteStateStore.schemaVersion,
                                                  "created_at": UTCTimestamp.now()]))
        self.now = now
    }

    private func withContents<T>(_ body: (inout Contents) throws -> T) throws -> T {
        try contents.withLock { contents in
            guard var open = contents else { throw PipelineError(.internalError, "the in-memory state is already closed") }
            // Taken out so that changes are made in place, not on a copy. A body throws only
            // before it changes anything (the rules decide first), so a failed call changes nothing.
            contents = nil
            defer { contents = open }
            return try body(&open)
        }
    }

    // MARK: Transitions

    public func commit(_ transitions: [StateTransition]) async throws { try commitSynchronously(transitions) }

    public func commitSynchronously(_ transitions: [StateTransition]) throws {
        let now = now()
        try withContents { contents in
            var ledgers: [String: ItemLedger] = [:]
            for transition in transitions {
                var ledger = ledgers[transition.path] ?? contents.ledger(transition.path)
                try ledger.apply(transition, at: now)
                ledgers[transition.path] = ledger
            }
            for ledger in ledgers.values { contents.store(ledger) }
        }
    }

    public func recordListing(_ items: [SourceItem]) throws -> ListingChanges {
        let now = now()
        return try withContents { contents in
            var changes = ListingChanges()
            for item in items {
                var ledger = contents.ledger(item.path)
                switch ledger.listed(item, at: now) {
                case .added: changes.added += 1
                case .changed: changes.changed.append(item.path)
                case .kept: break
                }
                contents.store(ledger)
            }
            return changes
        }
    }

    // MARK: Reading

    public func item(_ path: String) throws -> ItemRecord? {
        try withContents { $0.entries[path]?.item }
    }

    public func stageRecords(for path: String) throws -> [String: StageRecord] {
        try withContents { $0.entries[path]?.stages ?? [:] }
    }

    public func allItems() throws -> [ItemRecord] {
        try withContents { contents in
            contents.listed.enumerated().compactMap { order, path in
                contents.entries[path].flatMap { $0.listedOrder == order ? $0.item : nil }
            }
        }
    }

    public func summary(maxFailures: Int) throws -> StateSummary {
        try withContents { contents in
            contents.entries.values.reduce(into: StateSummary()) { $0.count($1.item, maxFailures: maxFailures) }
        }
    }

    // MARK: Maintenance

    public func retry(paths: [String]?, includeSkipped: Bool) throws -> Int {
        try withContents { contents in
            var changed = 0
            for path in paths ?? Array(contents.entries.keys) {
                var ledger = contents.ledger(path)
                guard ledger.retry(includeSkipped: includeSkipped) else { continue }
                contents.store(ledger)
                changed += 1
            }
            return changed
        }
    }

    public func forget(path: String) throws -> Bool {
        try withContents { contents in
            var ledger = contents.ledger(path)
            guard ledger.forget() else { return false }
            contents.store(ledger)
            return true
        }
    }

    public func importItems(_ records: [ItemRecord]) throws {
        try withContents { contents in
            for record in records {
                var ledger = contents.ledger(record.path)
                ledger.imported(record)
                contents.store(ledger)
            }
        }
    }

    public func metadata(_ key: String) throws -> String? {
        try withContents { $0.metadata[key] }
    }

    public func setMetadata(_ changes: [String: String?]) throws {
        try withContents { contents in
            for (key, value) in changes { contents.metadata[key] = value }
        }
    }

    /// Refused: an in-memory state is for tests and has no file to copy. Moving a state between
    /// drivers belongs to one copy over the `StateStore` protocol, not to each driver.
    public func saveCopy(to path: String) throws {
        _ = try withContents { _ in () }
        throw PipelineError(.usage, "the in-memory state cannot be saved to '\(path)': it is for tests and keeps no file",
                            hint: "use a state file (SQLiteStateStore) where the state must outlive the process")
    }

    public func close() throws {
        contents.withLock { $0 = nil }
    }
}
