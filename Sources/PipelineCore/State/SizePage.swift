/// The sizes of some of the items a run would still work on, read by `StateStore.unfinishedSizes`.
public struct SizePage: Sendable, Equatable {
    public var sizes: [Int64]
    /// Where the next page starts; nil when this page is the last.
    public var next: Cursor?

    /// A place among the unfinished items, as one driver counts it (meaningful to that driver only):
    /// which status it reads (`group`) and where in the listed order.
    public struct Cursor: Sendable, Equatable {
        public let group: Int
        public let position: Int64
        public init(group: Int, position: Int64) {
            self.group = group
            self.position = position
        }
    }

    public init(sizes: [Int64], next: Cursor?) {
        self.sizes = sizes
        self.next = next
    }
}
