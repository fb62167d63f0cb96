import Foundation
import Testing
@testable import BuiltinStages

@Suite("The day Google's daily quota counts in: midnight to midnight Pacific time")
struct QuotaDayTests {
    static func utc(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test func theDayTurnsAtMidnightPacificStandardTime() {
        let before = QuotaDay(containing: Self.utc("2025-01-15T07:59:59Z"))
        #expect(before.label == "2025-01-14")
        #expect(before.resets == Self.utc("2025-01-15T08:00:00Z"))
        #expect(QuotaDay(containing: Self.utc("2025-01-15T08:00:00Z")).label == "2025-01-15")
    }

    @Test func inSummerTheDayTurnsAnHourEarlierInUTC() {
        #expect(QuotaDay(containing: Self.utc("2025-07-01T06:59:59Z")).label == "2025-06-30")
        let day = QuotaDay(containing: Self.utc("2025-07-01T07:00:00Z"))
        #expect(day.label == "2025-07-01")
        #expect(day.resets == Self.utc("2025-07-02T07:00:00Z"))
    }

    @Test func theDaysSummerTimeBeginsAndEndsAre23And25HoursLong() {
        let spring = QuotaDay(containing: Self.utc("2025-03-09T12:00:00Z"))
        #expect(spring.label == "2025-03-09")
        #expect(spring.resets == Self.utc("2025-03-10T07:00:00Z"))
        let autumn = QuotaDay(containing: Self.utc("2025-11-02T07:00:00Z"))
        #expect(autumn.label == "2025-11-02")
        #expect(autumn.resets == Self.utc("2025-11-03T08:00:00Z"))
    }

    @Test func aRunnerInAnotherTimeZoneCountsTheSameDay() {
        // 23:30 in Berlin on the 14th is 14:30 Pacific on the 14th; 08:30 in Tokyo on the 15th too.
        #expect(QuotaDay(containing: Self.utc("2025-01-14T22:30:00Z")).label == "2025-01-14")
        #expect(QuotaDay(containing: Self.utc("2025-01-14T23:30:00Z")).label == "2025-01-14")
    }
}
