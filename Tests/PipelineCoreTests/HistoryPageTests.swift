import Foundation
import Testing
@testable import PipelineCore

/// The run-history page (`pipeline report --html`), rendered in-process from fabricated histories:
/// no runs, one, thirty with killed runs and failures, five hundred; hostile names; no URL anywhere.
@Suite("The run-history page")
struct HistoryPageTests {
    static let start = 1_796_000_000.0  // 2026-11-30

    /// `count` runs of an hour each, a day apart, each completing 40 items of 25 MB; every seventh
    /// killed (no end); failures in some; the library shrinking from `count * 40 + 200` items.
    static func runs(_ count: Int, runner: String = "ci-runner/4242/ab12") -> [RunRecord] {
        (0..<count).map { index in
            let number = Int64(index + 1)
            let killed = number % 7 == 0
            let completed = 40 + (index % 5) * 3
            return RunRecord(number: number, runner: runner, startedAt: start + Double(index) * 86_400,
                             endedAt: killed ? nil : start + Double(index) * 86_400 + 3_725,
                             exitCode: killed ? nil : (index % 4 == 0 ? 1 : 75),
                             completed: completed, failed: index % 4 == 0 ? 2 : 0, left: 10,
                             bytesCompleted: Int64(completed) * 25_000_000,
                             failuresByCategory: index % 4 == 0 ? [.unsupportedType: 1, .network: 1] : [:],
                             stopCause: killed ? nil : (index % 4 == 0 ? nil : .timeBudget),
                             itemsLeft: killed ? nil : (count - index) * 40 + 200,
                             bytesLeft: killed ? nil : Int64((count - index) * 40 + 200) * 25_000_000)
        }
    }

    static func summary(completed: Int, failed: Int = 0, givenUp: Int = 0, total: Int? = nil) -> StateSummary {
        var summary = StateSummary()
        summary.completed = completed
        summary.completedBytes = Int64(completed) * 25_000_000
        summary.failed = failed
        summary.givenUp = givenUp
        summary.total = total ?? completed + 200
        summary.totalBytes = Int64(summary.total) * 25_000_000
        return summary
    }

    static let plan = TransferPlan(sizes: Array(repeating: 25_000_000, count: 200),
                                   quotas: [QuotaModel(service: "Google Photos Library API", dailyRequests: 10_000, itemsPerSharedRequest: 50) { _ in 1 }])

    static func page(_ runs: [RunRecord], name: String = "photos-backup", failures: [FailureCategory: Int] = [:],
                     summary: StateSummary? = nil, plan: TransferPlan = Self.plan) -> String {
        HistoryPage(pipeline: name, generatedAt: Date(timeIntervalSince1970: start + 40 * 86_400),
                           summary: summary ?? Self.summary(completed: runs.reduce(0) { $0 + $1.completed }, failed: failures.values.reduce(0, +)),
                           plan: plan, runs: runs, failures: failures).html
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func withoutRunsThePageSaysHowToGetThemAndStillShowsWhatIsLeft() {
        let html = Self.page([], summary: Self.summary(completed: 0))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("No runs recorded yet") && html.contains("pipeline run FILE"), "an empty state that says what to do")
        #expect(!html.contains("class=\"bar\"") && !html.contains("class=\"done-line\"") && !html.contains("<table"), "no empty charts or table")
        #expect(html.contains("<strong>200</strong> items (5 GB) left"), "the remaining estimate")
        #expect(html.contains("0% <small>done</small>"))
        #expect(html.contains("no runs recorded"))
    }

    @Test func oneRunDrawsOnePointOneBarAndOneRow() {
        let html = Self.page(Self.runs(1))
        #expect(Self.count("class=\"bar\"", in: html) == 1)
        #expect(Self.count("class=\"done-dot\"", in: html) == 1)
        #expect(Self.count("<tr>", in: html) + Self.count("<tr class=", in: html) == 2, "a header row and one run")
        #expect(html.contains("1 run ·") || html.contains("· 1 run<"), "says one run")
        #expect(html.contains("1h2m5s"), "the run's duration")
        #expect(html.contains("2026-11-30 00:53"), "its start, to the minute, in UTC")
    }

    @Test func thirtyRunsDrawEveryRunAndListThemNewestFirst() throws {
        let runs = Self.runs(30)
        let html = Self.page(runs, failures: [.unsupportedType: 8, .network: 3, .remoteMissing: 12])
        #expect(Self.count("class=\"bar\"", in: html) == 30, "one bar per run")
        #expect(Self.count("class=\"done-dot\"", in: html) == 30)
        #expect(Self.count("class=\"left-dot\"", in: html) == 26, "killed runs (7, 14, 21, 28) recorded nothing left")
        #expect(Self.count("<svg", in: html) == 3, "progress, bytes, categories")
        let table = try #require(html.range(of: "<tbody>").map { String(html[$0.upperBound...]) })
        #expect(Self.count("<tr", in: table) == 30)
        let thirty = try #require(table.range(of: ">30<")), first = try #require(table.range(of: ">1<"))
        #expect(thirty.lowerBound < first.lowerBound, "newest first")
        #expect(html.contains("one point per run"))
        // Done after the last run: everything completed so far; the items-done line rises.
        let completed = runs.reduce(0) { $0 + $1.completed }
        #expect(html.contains("run 30: \(ReadableNumber.count(completed)) done, 240 left"), "\(completed)")
    }

    @Test func aRunWithoutAnEndIsShownAsKilledOrStillRunning() {
        let html = Self.page(Self.runs(8))
        #expect(Self.count("killed or still running", in: html) == 1, "run 7 only")
        #expect(html.contains("<tr class=\"unfinished\"><td class=\"num\">7</td>"))
        #expect(html.contains("75 · stopped early") && html.contains("1 · items failed"))
        #expect(html.contains("time budget"), "the stop cause in words")
    }

    @Test func failuresAreBarsWithCategoryTitlesLargestFirst() throws {
        let html = Self.page(Self.runs(3), failures: [.unsupportedType: 8, .network: 3, .remoteMissing: 12],
                             summary: Self.summary(completed: 120, failed: 25, givenUp: 4))
        let missing = try #require(html.range(of: ">remote file missing or changed<"))
        let unsupported = try #require(html.range(of: ">unsupported type<"))
        let network = try #require(html.range(of: ">network<"))
        let uncategorised = try #require(html.range(of: ">not categorised<"), "25 failed, 23 with a category")
        #expect(missing.lowerBound < unsupported.lowerBound && unsupported.lowerBound < network.lowerBound
                && network.lowerBound < uncategorised.lowerBound)
        #expect(Self.count("class=\"fail-bar\"", in: html) == 4)
        #expect(html.contains("4 gave up and wait for <code>pipeline retry</code>"))
        let none = Self.page(Self.runs(3))
        #expect(none.contains("No failed items.") && !none.contains("class=\"fail-bar\""))
    }

    @Test func fiveHundredRunsAreDrawnInGroupsAndThePageStaysSmall() {
        let html = Self.page(Self.runs(500))
        #expect(Self.count("class=\"bar\"", in: html) == 56, "500 runs in groups of 9: 56 bars, not 500")
        #expect(html.contains("each point: 9 consecutive runs") && html.contains("runs 496–500: "))
        // Runs 496–500 complete 52, 40, 43, 46, 49 items of 25 MB: 230 in all, 46 a run.
        #expect(html.contains("runs 496–500: 1.2 GB a run on average (5.8 GB in all), 230 items completed"), "a short last group is not drawn as a slow one")
        let table = html.components(separatedBy: "<tbody>").last ?? ""
        #expect(Self.count("<tr", in: table) == HistoryPage.tableLimit)
        #expect(html.contains("The latest 50 of 500 runs"))
        #expect(html.utf8.count < 120_000, "\(html.utf8.count) bytes")
    }

    @Test func aTruncatedHistorySaysWhichRunsItShows() {
        let runs = Self.runs(20).map { run -> RunRecord in
            var later = run
            later.number += 980
            return later
        }
        #expect(Self.page(runs).contains("runs 981–1,000 (earlier runs not shown)"))
    }

    @Test func namesFromTheStateComeOutInert() {
        let hostile = "<script>alert(\"x\")</script> & 'quoted' <img src=x onerror=alert(1)>"
        var runs = Self.runs(3, runner: hostile)
        runs[0].runner = "</td></tr></table><script>alert(2)</script>"
        let plan = TransferPlan(sizes: [5], quotas: [QuotaModel(service: "<b onmouseover=\"alert(3)\">API</b>", dailyRequests: 10, itemsPerSharedRequest: nil) { _ in 1 }])
        let html = Self.page(runs, name: hostile, plan: plan)
        #expect(!html.lowercased().contains("<script"), "no script element can come from the state")
        #expect(!html.contains("<img") && !html.contains("<b "), "no element of the state's text")
        #expect(!html.contains("\"alert") && !html.contains("'quoted'"), "no quote of the state's text closes an attribute")
        #expect(html.contains("<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &lt;img src=x onerror=alert(1)&gt;</h1>"))
        #expect(html.contains("<title>&lt;script&gt;"))
        #expect(html.contains("&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;alert(2)"))
        #expect(html.contains("&lt;b onmouseover=&quot;alert(3)&quot;&gt;API&lt;/b&gt; requests"))
    }

    @Test func thePageFetchesNothingAndRunsNothing() {
        for html in [Self.page([]), Self.page(Self.runs(30), failures: [.tooLarge: 2])] {
            let lower = html.lowercased()
            for forbidden in ["http:", "https:", "//", "url(", "@import", "src=", "href=", "<script", "<link", "<iframe", "<object", "javascript:"] {
                #expect(!lower.contains(forbidden), "\(forbidden)")
            }
        }
    }

    @Test func itHasLightDarkAndPrintStyles() {
        let html = Self.page(Self.runs(2))
        #expect(html.contains("@media (prefers-color-scheme: dark)") && html.contains("@media print"))
        #expect(html.contains("<meta name=\"color-scheme\" content=\"light dark\">"))
        #expect(!html.contains("fill=\"#") && !html.contains("stroke=\"#"), "chart colours come from the scheme's variables")
    }

    @Test func numbersAreWrittenForPeople() {
        #expect(ReadableNumber.bytes(1_234_567_890) == "1.2 GB")
        #expect(ReadableNumber.bytes(312_400_000) == "312 MB" && ReadableNumber.bytes(15_440_000) == "15.4 MB")
        #expect(ReadableNumber.bytes(2_000_000_000) == "2 GB" && ReadableNumber.bytes(512) == "512 B" && ReadableNumber.bytes(-5) == "0 B")
        #expect(ReadableNumber.count(3_456) == "3,456" && ReadableNumber.count(-1_000) == "-1,000" && ReadableNumber.count(7) == "7")
        #expect(ReadableNumber.percent(999, of: 1_000) == "99%" && ReadableNumber.percent(1, of: 1_000) == "1%")
        #expect(ReadableNumber.percent(1_000, of: 1_000) == "100%" && ReadableNumber.percent(0, of: 0) == "0%")
        #expect(ReadableNumber.minute(1_796_000_000) == "2026-11-30 00:53" && ReadableNumber.minute(.infinity) == "unknown"
                && ReadableNumber.minute(-1) == "unknown")
        #expect(ReadableNumber.duration(seconds: 3_725) == "1h2m5s" && ReadableNumber.duration(seconds: -3) == "under 1s")
    }

    @Test func damagedNumbersNeverTrap() {
        var runs = Self.runs(3)
        runs[0].bytesCompleted = .max
        runs[1].bytesCompleted = .max
        runs[2].completed = .max
        runs[2].startedAt = .nan
        runs[2].itemsLeft = -5
        let html = Self.page(runs, summary: Self.summary(completed: 10))
        #expect(html.contains("</html>"))
        #expect(html.contains("unknown"), "a start that is not a time")
    }

    @Test func axisTopsAreRoundNumbers() {
        #expect(ChartFrame.niceCeiling(0) == 1 && ChartFrame.niceCeiling(7) == 10 && ChartFrame.niceCeiling(140) == 200)
        #expect(ChartFrame.niceCeiling(4_100) == 5_000 && ChartFrame.niceCeiling(1_000) == 1_000 && ChartFrame.niceCeiling(.nan) == 1)
        #expect(ChartFrame.labelledSlots(4) == [0, 1, 2, 3] && ChartFrame.labelledSlots(30) == [0, 6, 12, 17, 23, 29])
        #expect(ChartFrame.number(12.25) == "12.3" || ChartFrame.number(12.25) == "12.2")
        #expect(ChartFrame.number(-0.5) == "-0.5" && ChartFrame.number(240) == "240")
    }
}
