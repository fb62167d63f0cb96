import Foundation

/// A time of day items may start in, `between: "01:00-06:00"` in `time_zone:` (an IANA name).
///
/// Read on the local wall clock of the time zone, so it follows daylight saving time: on the day
/// clocks go forward "01:00-06:00" in Europe/Berlin lasts four hours, on the day they go back six.
/// A window whose end is before its start wraps midnight ("22:00-06:00"); the end minute itself is
/// outside (06:00 is closed).
public struct DailyWindow: Sendable, Hashable, CustomStringConvertible {
    /// Minutes after local midnight: `start` is in the window, `end` is not (0…1440).
    public let start: Int
    public let end: Int
    public let timeZone: TimeZone
    /// The time zone as the pipeline file names it (Foundation calls UTC "GMT").
    public let zoneName: String

    /// Nil unless `0 ≤ start, end ≤ 1440`, `start < 1440` and `start ≠ end`. `zoneName`: how
    /// messages name the time zone (its identifier when nil).
    public init?(start: Int, end: Int, timeZone: TimeZone, zoneName: String? = nil) {
        guard (0..<1440).contains(start), (0...1440).contains(end), start != end, !(start == 0 && end == 1440) else { return nil }
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.zoneName = zoneName ?? timeZone.identifier
    }

    /// Parses `HH:MM-HH:MM` (24-hour clock; the end may be 24:00); nil for anything else.
    public init?(between text: String, timeZone: TimeZone, zoneName: String? = nil) {
        let parts = text.replacingOccurrences(of: "–", with: "-").split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = Self.minute(parts[0], allowingEnd: false), let end = Self.minute(parts[1], allowingEnd: true) else { return nil }
        self.init(start: start, end: end, timeZone: timeZone, zoneName: zoneName)
    }

    /// `HH:MM` as minutes after midnight; `24:00` only as an end.
    private static func minute(_ text: Substring, allowingEnd: Bool) -> Int? {
        let fields = text.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, fields.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let hour = Int(fields[0]), let minute = Int(fields[1]), (0...59).contains(minute) else { return nil }
        if hour == 24, minute == 0, allowingEnd { return 1440 }
        guard (0...23).contains(hour) else { return nil }
        return hour * 60 + minute
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Minutes after local midnight at `date` in the window's time zone.
    func localMinute(at date: Date) -> Int {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
    }

    public func isOpen(at date: Date) -> Bool {
        let minute = localMinute(at: date)
        return start < end ? (start..<end).contains(minute) : (minute >= start || minute < end)
    }

    /// When the window is next open from `date` on: `date` itself when it is open. A start that the
    /// clocks skip that day (02:30 when they go from 02:00 to 03:00) opens at the next time that exists.
    public func nextOpening(after date: Date) -> Date {
        if isOpen(at: date) { return date }
        let wanted = DateComponents(hour: start / 60, minute: start % 60, second: 0)
        return calendar.nextDate(after: date, matching: wanted, matchingPolicy: .nextTime) ?? date.addingTimeInterval(86_400)
    }

    /// `01:00–06:00 Europe/Berlin`.
    public var description: String {
        "\(Self.clock(start))–\(Self.clock(end)) \(zoneName)"
    }

    private static func clock(_ minute: Int) -> String {
        let hour = minute / 60, rest = minute % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    /// How long until an opening, as a person says it: "3 h 12 min", "45 min", "under a minute".
    public static func spoken(_ seconds: TimeInterval) -> String {
        let minutes = Int((max(0, seconds) / 60).rounded(.up))
        if seconds < 60 { return "under a minute" }
        let hours = minutes / 60, rest = minutes % 60
        if hours == 0 { return "\(rest) min" }
        return rest == 0 ? "\(hours) h" : "\(hours) h \(rest) min"
    }
}
