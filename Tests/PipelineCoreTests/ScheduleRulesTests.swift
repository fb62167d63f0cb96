import Foundation
import Testing
@testable import PipelineCore

/// The schedule's decisions, with no I/O: orders, priorities, failed-after-fresh, windows (wrapping
/// midnight, time zones, daylight saving days, boundary minutes), the notice, the quota preference.
@Suite("Scheduling rules")
struct ScheduleRulesTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// A UTC instant from `2026-03-29T00:59:00Z`.
    static func at(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    static func window(_ between: String, _ zone: TimeZone = utc) -> DailyWindow {
        DailyWindow(between: between, timeZone: zone, zoneName: zone == utc ? "UTC" : nil)!
    }

    struct Item {
        var path: String
        var size: Int64
        var modified: String? = nil
        var failures = 0
        var inProgress = false
    }

    /// The paths in the order a claim under `schedule` takes them (listing order: as given).
    static func claimOrder(_ items: [Item], _ schedule: Schedule) -> [String] {
        let plan = schedule.claimPlan(at: at("2026-06-01T12:00:00Z"))
        let candidates = items.enumerated().map { index, item in
            (ClaimPlan.Candidate(inProgress: item.inProgress, schedule: schedule.classify(path: item.path, size: item.size), failures: item.failures,
                                 size: item.size, modified: item.modified, listedOrder: Int64(index)), item.path)
        }
        return candidates.sorted { plan.precedes($0.0, $1.0) }.map(\.1)
    }

    static let mixed = [
        Item(path: "/b.mp4", size: 300, modified: "2024-01-03T00:00:00Z"),
        Item(path: "/a.jpg", size: 100, modified: "2024-01-01T00:00:00Z"),
        Item(path: "/c.jpg", size: 300, modified: "2024-01-05T00:00:00Z"),
        Item(path: "/d.heic", size: 200, modified: nil),
    ]

    // MARK: Orders

    @Test func listedKeepsTheListingOrder() {
        #expect(Self.claimOrder(Self.mixed, Schedule()) == ["/b.mp4", "/a.jpg", "/c.jpg", "/d.heic"])
    }

    @Test func smallestFirstAndLargestFirstBreakTiesByListingOrder() {
        #expect(Self.claimOrder(Self.mixed, Schedule(order: .smallestFirst)) == ["/a.jpg", "/d.heic", "/b.mp4", "/c.jpg"])
        #expect(Self.claimOrder(Self.mixed, Schedule(order: .largestFirst)) == ["/b.mp4", "/c.jpg", "/d.heic", "/a.jpg"])
    }

    @Test func newestFirstAndOldestFirstCountAnUnknownTimeAsTheOldest() {
        #expect(Self.claimOrder(Self.mixed, Schedule(order: .newestFirst)) == ["/c.jpg", "/b.mp4", "/a.jpg", "/d.heic"])
        #expect(Self.claimOrder(Self.mixed, Schedule(order: .oldestFirst)) == ["/d.heic", "/a.jpg", "/b.mp4", "/c.jpg"])
    }

    @Test func everyOrderHasItsSQLTermAndListedHasNone() {
        #expect(ScheduleOrder.listed.sqlTerm.isEmpty)
        for order in ScheduleOrder.allCases where order != .listed { #expect(!order.sqlTerm.isEmpty, "\(order)") }
    }

    // MARK: Priority

    static let photosFirst = Schedule(priority: [ScheduleRule(match: [GlobPattern("**/*.jpg")!, GlobPattern("**/*.heic")!])])

    @Test func itemsMatchingARuleGoBeforeThoseMatchingNone() {
        #expect(Self.claimOrder(Self.mixed, Self.photosFirst) == ["/a.jpg", "/c.jpg", "/d.heic", "/b.mp4"])
        #expect(Self.photosFirst.classify(path: "/x/y.JPG", size: 1) == ScheduleClass(rank: 0, window: 0))
        #expect(Self.photosFirst.classify(path: "/x/y.mov", size: 1) == ScheduleClass(rank: 1, window: 0))
    }

    @Test func theFirstMatchingRuleWinsAndTheOrderAppliesWithinARank() {
        let schedule = Schedule(order: .largestFirst, priority: [
            ScheduleRule(match: [GlobPattern("*.mp4")!]),
            ScheduleRule(largerThan: 150),
        ])
        // /b.mp4 matches both: the first wins (rank 0). Then /c.jpg, /d.heic (> 150), largest first; /a.jpg matches none.
        #expect(Self.claimOrder(Self.mixed, schedule) == ["/b.mp4", "/c.jpg", "/d.heic", "/a.jpg"])
    }

    @Test func sizeBoundsAreStrictAndCombineWithMatch() {
        let rule = ScheduleRule(match: [GlobPattern("*.mp4")!], largerThan: 1000, smallerThan: 2000)
        #expect(!rule.matches(path: "/v.mp4", size: 1000))
        #expect(rule.matches(path: "/v.mp4", size: 1001))
        #expect(rule.matches(path: "/v.mp4", size: 1999))
        #expect(!rule.matches(path: "/v.mp4", size: 2000))
        #expect(!rule.matches(path: "/v.jpg", size: 1500))
        #expect(ScheduleRule(smallerThan: 10).matches(path: "/anything", size: 9))
    }

    // MARK: Failed after fresh, in progress first

    @Test func itemsThatFailedBeforeGoAfterFreshOnesFewerFailuresFirstWithinTheirRank() {
        let items = [
            Item(path: "/a.jpg", size: 1, failures: 2),
            Item(path: "/b.mp4", size: 1),
            Item(path: "/c.jpg", size: 1, failures: 1),
            Item(path: "/d.jpg", size: 1),
        ]
        #expect(Self.claimOrder(items, Schedule()) == ["/b.mp4", "/d.jpg", "/c.jpg", "/a.jpg"])
        // Priority comes first: a photo that failed before still goes before a fresh video.
        #expect(Self.claimOrder(items, Self.photosFirst) == ["/d.jpg", "/c.jpg", "/a.jpg", "/b.mp4"])
    }

    @Test func itemsInProgressGoFirstWhateverTheRules() {
        let items = [
            Item(path: "/a.jpg", size: 1),
            Item(path: "/b.mp4", size: 9, failures: 1, inProgress: true),
            Item(path: "/c.mov", size: 5, inProgress: true),
        ]
        #expect(Self.claimOrder(items, Schedule(order: .smallestFirst, priority: Self.photosFirst.priority)) == ["/b.mp4", "/c.mov", "/a.jpg"])
    }

    // MARK: Windows

    @Test func aWindowIncludesItsStartMinuteAndExcludesItsEndMinute() {
        let night = Self.window("01:00-06:00")
        #expect(!night.isOpen(at: Self.at("2026-06-01T00:59:59Z")))
        #expect(night.isOpen(at: Self.at("2026-06-01T01:00:00Z")))
        #expect(night.isOpen(at: Self.at("2026-06-01T05:59:59Z")))
        #expect(!night.isOpen(at: Self.at("2026-06-01T06:00:00Z")))
    }

    @Test func aWindowEndingBeforeItStartsWrapsMidnight() {
        let night = Self.window("22:00-06:00")
        #expect(!night.isOpen(at: Self.at("2026-06-01T21:59:00Z")))
        #expect(night.isOpen(at: Self.at("2026-06-01T22:00:00Z")))
        #expect(night.isOpen(at: Self.at("2026-06-01T23:59:00Z")))
        #expect(night.isOpen(at: Self.at("2026-06-02T00:00:00Z")))
        #expect(night.isOpen(at: Self.at("2026-06-02T05:59:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-06-02T06:00:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-06-02T12:00:00Z")))
        #expect(Self.window("22:00-24:00").isOpen(at: Self.at("2026-06-01T23:59:00Z")))
        #expect(!Self.window("22:00-24:00").isOpen(at: Self.at("2026-06-02T00:00:00Z")))
    }

    @Test func aWindowIsReadOnTheWallClockOfItsTimeZone() {
        let night = Self.window("01:00-06:00", Self.berlin)
        // Winter: Berlin is UTC+1, so 01:00 there is 00:00 UTC.
        #expect(night.isOpen(at: Self.at("2026-01-15T00:00:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-01-14T23:59:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-01-15T05:00:00Z")))
        // Summer: UTC+2, so 01:00 there is 23:00 UTC the day before, 06:00 is 04:00 UTC.
        #expect(night.isOpen(at: Self.at("2026-07-14T23:00:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-07-15T04:00:00Z")))
        #expect(!Self.window("01:00-06:00").isOpen(at: Self.at("2026-07-14T23:00:00Z")))
    }

    @Test func onTheDaysClocksChangeAWindowFollowsTheWallClock() {
        let night = Self.window("01:00-06:00", Self.berlin)
        // 29 March 2026: 02:00 CET becomes 03:00 CEST. The window lasts four hours: 00:00–04:00 UTC.
        #expect(night.isOpen(at: Self.at("2026-03-29T00:00:00Z")))
        #expect(night.isOpen(at: Self.at("2026-03-29T03:59:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-03-29T04:00:00Z")))
        // 25 October 2026: 03:00 CEST becomes 02:00 CET. Six hours: 23:00 UTC (the 24th) to 05:00 UTC.
        #expect(night.isOpen(at: Self.at("2026-10-24T23:00:00Z")))
        #expect(night.isOpen(at: Self.at("2026-10-25T04:59:00Z")))
        #expect(!night.isOpen(at: Self.at("2026-10-25T05:00:00Z")))
        // A start the clocks skip (02:30 on 29 March) opens at the next time that exists, 03:00 CEST = 01:00 UTC.
        let skipped = Self.window("02:30-04:00", Self.berlin)
        #expect(skipped.nextOpening(after: Self.at("2026-03-29T00:10:00Z")) == Self.at("2026-03-29T01:00:00Z"))
        #expect(skipped.isOpen(at: Self.at("2026-03-29T01:00:00Z")))
    }

    @Test func theNextOpeningIsNowWhenOpenElseTheNextStart() {
        let night = Self.window("01:00-06:00", Self.berlin)
        let now = Self.at("2026-01-15T12:00:00Z")
        #expect(night.nextOpening(after: now) == Self.at("2026-01-16T00:00:00Z"))
        #expect(night.nextOpening(after: Self.at("2026-01-15T02:00:00Z")) == Self.at("2026-01-15T02:00:00Z"))
        #expect(Self.window("22:00-06:00").nextOpening(after: Self.at("2026-06-01T06:00:00Z")) == Self.at("2026-06-01T22:00:00Z"))
    }

    @Test func closedWindowsKeepTheirItemsFromStartingAndOthersStart() {
        let schedule = Schedule(windows: [
            ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mp4")!], largerThan: 1000), window: Self.window("01:00-06:00")),
            ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mov")!]), window: Self.window("12:00-13:00")),
        ])
        #expect(schedule.classify(path: "/big.mp4", size: 2000).window == 1)
        #expect(schedule.classify(path: "/small.mp4", size: 10).window == 0)
        #expect(schedule.classify(path: "/clip.mov", size: 10).window == 2)
        let noon = schedule.claimPlan(at: Self.at("2026-06-01T12:30:00Z"))
        #expect(noon.closedWindows == [1] && noon.openClasses == [0, 2])
        #expect(!noon.mayStart(window: 1, size: 2000) && noon.mayStart(window: 2, size: 10) && noon.mayStart(window: 0, size: 1))
        let night = schedule.claimPlan(at: Self.at("2026-06-01T02:00:00Z"))
        #expect(night.openClasses == [0, 1])
    }

    @Test func theNoticeSaysHowManyWaitForWhichWindowAndWhenItOpens() {
        let schedule = Schedule(windows: [
            ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mp4")!]), window: Self.window("01:00-06:00", Self.berlin)),
            ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mov")!]), window: Self.window("12:00-13:00")),
        ])
        // 21:48 UTC in January is 22:48 in Berlin: 01:00 is 2 h 12 min away.
        let notices = schedule.waitingNotices(counts: [1: 12, 2: 1], at: Self.at("2026-01-15T21:48:00Z"))
        #expect(notices == [
            "12 items wait for their window 01:00–06:00 Europe/Berlin, which opens in 2 h 12 min",
            "1 item waits for its window 12:00–13:00 UTC, which opens in 14 h 12 min",
        ])
        // An open window keeps no one waiting: no notice.
        #expect(schedule.waitingNotices(counts: [2: 3], at: Self.at("2026-01-15T12:10:00Z")).isEmpty)
        #expect(DailyWindow.spoken(59) == "under a minute" && DailyWindow.spoken(45 * 60) == "45 min" && DailyWindow.spoken(7200) == "2 h")
    }

    @Test func windowTextsAreParsedStrictly() {
        for bad in ["", "01:00", "01:00-01:00", "1:00-06:00", "01:60-02:00", "25:00-06:00", "24:00-01:00", "00:00-24:00", "01:00-06:00-07:00", "ab:cd-01:00"] {
            #expect(DailyWindow(between: bad, timeZone: Self.utc) == nil, "\(bad)")
        }
        #expect(DailyWindow(between: "22:00-06:00", timeZone: Self.utc)?.start == 22 * 60)
        #expect(DailyWindow(between: "22:00–24:00", timeZone: Self.utc)?.end == 1440)
    }

    @Test func theClassDigestFollowsTheRulesNotTheOrderOrTheTimes() {
        let rule = ScheduleRule(match: [GlobPattern("*.mp4")!])
        let a = Schedule(order: .listed, windows: [ScheduleWindow(rule: rule, window: Self.window("01:00-06:00"))])
        let b = Schedule(order: .largestFirst, windows: [ScheduleWindow(rule: rule, window: Self.window("02:00-03:00", Self.berlin))])
        let c = Schedule(windows: [ScheduleWindow(rule: ScheduleRule(match: [GlobPattern("*.mov")!]), window: Self.window("01:00-06:00"))])
        #expect(a.classDigest == b.classDigest)
        #expect(a.classDigest != c.classDigest)
        #expect(Schedule().classDigest != Self.photosFirst.classDigest)
    }

    // MARK: The quota preference

    /// Google Photos' model: up to 16 MiB one request, larger a session start plus one per 64 MiB chunk; 50 items share a batchCreate.
    static let photos = QuotaModel(service: "Photos", dailyRequests: 10_000, itemsPerSharedRequest: 50) { bytes in
        bytes <= 16 << 20 ? 1 : 1 + Int((bytes + (64 << 20) - 1) / (64 << 20))
    }

    @Test func nearTheQuotaOnlyItemsTheRemainingRequestsCanFinishStart() {
        // Three left: one for the batchCreate, two for the upload: a session start and one chunk.
        #expect(QuotaPreference.sizeLimit(remaining: 3, model: Self.photos) == 64 << 20)
        // Two left: one request for the upload: a raw upload.
        #expect(QuotaPreference.sizeLimit(remaining: 2, model: Self.photos) == 16 << 20)
        // Far from the quota the limit is far beyond any file.
        #expect(QuotaPreference.sizeLimit(remaining: 10_000, model: Self.photos)! >= Int64(9_998) * (64 << 20))
    }

    @Test func whenNothingFitsThereIsNoLimitAndTheStageStopsTheRunAtTheQuota() {
        #expect(QuotaPreference.sizeLimit(remaining: 1, model: Self.photos) == nil)
        #expect(QuotaPreference.sizeLimit(remaining: 0, model: Self.photos) == nil)
        #expect(QuotaPreference.sizeLimit(remaining: -5, model: Self.photos) == nil)
        let flat = QuotaModel(service: "flat", dailyRequests: 10) { _ in 1 }
        #expect(QuotaPreference.sizeLimit(remaining: 1, model: flat) == nil, "every size fits: no limit")
    }

    @Test func theTightestOfSeveralQuotasWins() {
        let perMegabyte = QuotaModel(service: "other", dailyRequests: 100) { bytes in Int(1 + bytes / 1_000_000) }
        #expect(QuotaPreference.sizeLimit([(Self.photos, 3), (perMegabyte, 5)]) == 4_999_999)
        #expect(QuotaPreference.sizeLimit([(Self.photos, 1)]) == nil)
    }

    @Test func aPlanWithASizeLimitKeepsLargerItemsWaiting() {
        let plan = ClaimPlan(sizeLimit: 100)
        #expect(plan.mayStart(window: 0, size: 100) && !plan.mayStart(window: 0, size: 101) && plan.mayStart(window: 0, size: nil))
    }
}
