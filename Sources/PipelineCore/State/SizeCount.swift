/// How many items of one size a state holds (one row of `StateStore.unfinishedSizes`).
public struct SizeCount: Sendable, Equatable {
    public var size: Int64
    public var count: Int

    public init(size: Int64, count: Int) {
        self.size = size
        self.count = count
    }
}
