/// Which items a `priority:` or `windows:` entry is about: paths matching any of `match` (all
/// paths when there is none), larger than `largerThan` and smaller than `smallerThan` where given.
public struct ScheduleRule: Sendable, CustomStringConvertible {
    public var match: [GlobPattern]
    public var largerThan: Int64?
    public var smallerThan: Int64?

    public init(match: [GlobPattern] = [], largerThan: Int64? = nil, smallerThan: Int64? = nil) {
        self.match = match
        self.largerThan = largerThan
        self.smallerThan = smallerThan
    }

    public func matches(path: String, size: Int64) -> Bool {
        if let largerThan, size <= largerThan { return false }
        if let smallerThan, size >= smallerThan { return false }
        return match.isEmpty || match.contains { $0.matches(path) }
    }

    /// The rule as written, for messages and the rules' digest.
    public var description: String {
        var parts: [String] = []
        if !match.isEmpty { parts.append("match [" + match.map(\.pattern).joined(separator: ", ") + "]") }
        if let largerThan { parts.append("larger_than \(largerThan)") }
        if let smallerThan { parts.append("smaller_than \(smallerThan)") }
        return parts.joined(separator: " ")
    }
}
