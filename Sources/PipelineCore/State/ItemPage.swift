/// A slice of a state's items in listed order, read by `StateStore.itemPage(after:limit:)`.
public struct ItemPage: Sendable, Equatable {
    public var items: [StoredItem]
    /// Where the next page starts; nil when this page is the last.
    public var next: Cursor?

    /// A place in the listed order, as one driver counts it (meaningful to that driver only).
    public struct Cursor: Sendable, Equatable {
        public let position: Int64
        public init(_ position: Int64) { self.position = position }
    }

    public init(items: [StoredItem], next: Cursor?) {
        self.items = items
        self.next = next
    }

    /// The most items one page may hold: a page is held in memory whole.
    public static let limits = 1...100_000

    /// Refuses a page size out of `limits` (a page holds all its items in memory at once).
    static func check(_ limit: Int) throws {
        guard limits.contains(limit) else {
            throw PipelineError(.usage, "a page of \(limit) items is out of range (\(limits.lowerBound)…\(limits.upperBound))",
                                hint: "pass a page size within the range")
        }
    }

    /// The page made of `items` read with `limit`: the last one when fewer came back.
    static func of(_ items: [(item: StoredItem, position: Int64)], limit: Int) -> ItemPage {
        ItemPage(items: items.map(\.item), next: items.count < limit ? nil : items.last.map { Cursor($0.position) })
    }
}
