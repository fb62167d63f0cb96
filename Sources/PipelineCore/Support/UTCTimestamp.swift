#if canImport(Glibc)
import Glibc
#endif

/// ISO 8601 timestamps in UTC to the second (`2026-11-27T18:00:00Z`), for log lines, listings and
/// records; cheap enough to call for every event.
public enum UTCTimestamp {
    public static func now() -> String { iso8601(seconds: Int(time(nil))) }

    public static func iso8601(seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
