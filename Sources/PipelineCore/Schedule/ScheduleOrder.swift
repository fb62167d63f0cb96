/// The `order:` of a schedule: how items of the same priority and failure count follow each other.
///
/// Unknown sizes count as 0 bytes, unknown modification times as the oldest; ties go by listing order.
public enum ScheduleOrder: String, Sendable, CaseIterable, Hashable {
    case listed
    case smallestFirst = "smallest-first"
    case largestFirst = "largest-first"
    case newestFirst = "newest-first"
    case oldestFirst = "oldest-first"

    /// Whether `a` goes before `b` by this order alone (false for a tie).
    public func precedes(size a: Int64?, modified aModified: String?, _ b: Int64?, modified bModified: String?) -> Bool {
        switch self {
        case .listed: return false
        case .smallestFirst: return (a ?? 0) < (b ?? 0)
        case .largestFirst: return (a ?? 0) > (b ?? 0)
        case .newestFirst: return (aModified ?? "") > (bModified ?? "")
        case .oldestFirst: return (aModified ?? "") < (bModified ?? "")
        }
    }

    /// The SQL ordering term of this order (empty for `listed`), for the SQL drivers' claims; the
    /// same order `precedes` gives (ISO 8601 times compare as text).
    public var sqlTerm: String {
        switch self {
        case .listed: return ""
        case .smallestFirst: return "COALESCE(size, 0)"
        case .largestFirst: return "COALESCE(size, 0) DESC"
        case .newestFirst: return "COALESCE(modified, '') DESC"
        case .oldestFirst: return "COALESCE(modified, '')"
        }
    }
}
