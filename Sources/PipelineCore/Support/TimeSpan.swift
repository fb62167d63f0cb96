/// A length of time written the way people write it in a pipeline file: `90s`, `5m`, `5h30m`, `250ms`.
///
/// Parsing is strict: every part needs a unit, units go from large to small, and nothing else is
/// accepted, so a typo such as `5hh` or `30` is an error rather than a silent guess.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    /// Clamped to 0…`longest` (a nonsense value from a server never traps).
    public init(seconds: Double) {
        self.milliseconds = CheckedNumber.int64(seconds * 1000).map { min(max(0, $0), Self.longest.milliseconds) } ?? Self.longest.milliseconds
    }

    /// The longest duration accepted anywhere: ten years. Longer ones are surely mistakes, and
    /// adding them to a clock could overflow.
    public static let longest = TimeSpan(milliseconds: 3650 * 86_400_000)

    public var seconds: Double { Double(milliseconds) / 1000 }
    public var duration: Duration { .milliseconds(milliseconds) }

    private static let units: [(suffix: String, milliseconds: Int64)] = [
        ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1),
    ]

    /// Parses `text`, or returns nil with no partial result.
    public init?(parsing text: String) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total: Int64 = 0
        var smallestUnitSoFar = Int64.max
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
            guard !digits.isEmpty, let amount = Double(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let letters = rest.prefix(while: { $0.isASCII && $0.isLetter })
            guard let unit = Self.units.first(where: { $0.suffix == letters }) else { return nil }
            guard unit.milliseconds < smallestUnitSoFar else { return nil }
            smallestUnitSoFar = unit.milliseconds
            rest = rest.dropFirst(letters.count)
            guard let part = CheckedNumber.int64(amount * Double(unit.milliseconds)) else { return nil }
            total = total.addingReportingOverflow(part).partialValue
            guard total <= Self.longest.milliseconds else { return nil }
        }
        self.milliseconds = total
    }

    public var description: String {
        if milliseconds < 1000 { return "\(milliseconds)ms" }
        var remaining = milliseconds / 1000
        var parts: [String] = []
        for (suffix, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] as [(String, Int64)] {
            if remaining >= size {
                parts.append("\(remaining / size)\(suffix)")
                remaining %= size
            }
        }
        return parts.joined()
    }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.milliseconds < rhs.milliseconds }
}
