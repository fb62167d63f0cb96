import Foundation

/// Numbers as a person reads them on the history page: `3,456` items, `1.2 GB`, `78%`, `1h5m`,
/// `2026-11-30 09:23` (UTC).
public enum ReadableNumber {
    /// Grouped by thousands: `3,456`.
    public static func count(_ value: Int) -> String {
        value < 0 ? "-" + TransferPlan.count(Int(clamping: value.magnitude)) : TransferPlan.count(value)
    }

    static func count(_ value: Int64) -> String { count(Int(clamping: value)) }

    /// Decimal units with three significant digits at most: `512 B`, `1.2 GB`, `15.4 MB`, `312 MB`.
    static func bytes(_ bytes: Int64) -> String {
        let value = Double(max(0, bytes))
        for (unit, size) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)] where value >= size {
            let scaled = value / size
            return scaled < 100 ? "\(tenths(scaled)) \(unit)" : "\(Int(scaled.rounded())) \(unit)"
        }
        return "\(Int64(value)) B"
    }

    /// A share as whole percent, never 100% before everything is done and never 0% once something is.
    static func percent(_ part: Int64, of whole: Int64) -> String { "\(percentValue(part, of: whole))%" }

    static func percentValue(_ part: Int64, of whole: Int64) -> Int {
        guard whole > 0, part > 0 else { return 0 }
        guard part < whole else { return 100 }
        return min(99, max(1, Int((Double(part) / Double(whole) * 100).rounded(.down))))
    }

    /// A length of time: `42s`, `1h5m12s` (`TimeSpan`'s form), at most ten years.
    static func duration(seconds: Double) -> String {
        guard seconds.isFinite else { return "unknown" }
        return seconds < 1 ? "under 1s" : TimeSpan(seconds: seconds.rounded()).description
    }

    /// A moment to the minute, in UTC: `2026-11-30 09:23`.
    /// "unknown" for a moment outside years 1970–9999 (a damaged record never traps).
    static func minute(_ seconds: Double) -> String {
        guard let whole = CheckedNumber.int64(seconds.rounded(.down)), (0...253_402_300_799).contains(whole) else { return "unknown" }
        let stamp = UTCTimestamp.iso8601(seconds: Int(whole))
        return stamp.prefix(10) + " " + stamp.dropFirst(11).prefix(5)
    }

    private static func tenths(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }
}
