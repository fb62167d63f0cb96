/// How many failures one category had: a run's, or the state's (`pipeline failures`, the run history).
public struct FailureCount: Sendable, Equatable, Codable {
    public var category: FailureCategory
    public var count: Int

    public init(category: FailureCategory, count: Int) {
        self.category = category
        self.count = count
    }

    /// The categories counted.
    public static func byCategory(_ categories: some Sequence<FailureCategory>) -> [FailureCategory: Int] {
        categories.reduce(into: [:]) { $0[$1, default: 0] += 1 }
    }

    /// Most first; a tie in the documented order of the categories.
    public static func sorted(_ counts: [FailureCategory: Int]) -> [FailureCount] {
        let order = Dictionary(uniqueKeysWithValues: FailureCategory.allCases.enumerated().map { ($1, $0) })
        return counts.filter { $0.value > 0 }.map { FailureCount(category: $0.key, count: $0.value) }
            .sorted { ($1.count, order[$0.category] ?? 0) < ($0.count, order[$1.category] ?? 0) }
    }
}
