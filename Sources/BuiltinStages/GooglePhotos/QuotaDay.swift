import Foundation

/// The day Google's daily quotas count in: they reset at midnight Pacific time
/// (America/Los_Angeles, with its summer time), whatever the runner's own time zone.
struct QuotaDay: Equatable, Sendable {
    /// `YYYY-MM-DD` in Pacific time: the period a shared counter is kept under.
    let label: String
    /// When the next day begins (the next midnight in Pacific time).
    let resets: Date

    /// Pacific time; a fixed UTC-8 (Pacific standard time) if the system has no time zone data,
    /// which starts the day an hour late in summer rather than early.
    static let zone = TimeZone(identifier: "America/Los_Angeles") ?? TimeZone(secondsFromGMT: -8 * 3600)!

    init(containing instant: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = Self.zone
        let day = calendar.dateComponents([.year, .month, .day], from: instant)
        label = String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
        let start = calendar.startOfDay(for: instant)
        resets = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
    }
}
