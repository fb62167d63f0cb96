import Foundation
import Testing
@testable import PipelineCore

@Suite("The terminal display: what scrolls, what stays live, and that it fits")
struct TerminalScreenTests {
    let start = Date(timeIntervalSince1970: 1_699_920_000) // midnight UTC

    func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    /// A screen with a run started and `toDo` items of `bytes` in all listed.
    func listedScreen(_ verbosity: Verbosity = .normal, toDo: Int = 10, bytes: Int64 = 10_000_000) -> TerminalScreen {
        var screen = TerminalScreen(verbosity: verbosity, colour: false)
        _ = screen.apply(.runStarted(pipeline: "photos", summary: StateSummary(), maxFailures: 3), at: at(0))
        _ = screen.apply(.listed(found: toDo, selected: toDo, toDo: toDo, bytesToDo: bytes), at: at(0))
        return screen
    }

    func finishedEvent(completed: Int) -> RunEvent {
        var outcome = RunOutcome()
        outcome.completed = completed
        return .runFinished(outcome: outcome, summary: StateSummary(), maxFailures: 3)
    }

    @Test func stageTransitionsScrollOnlyWhenVerbose() {
        let transitions: [RunEvent] = [
            .stageStarted(path: "/a.jpg", stage: "fetch", attempt: 1),
            .progress(path: "/a.jpg", stage: "fetch", bytes: 10, total: 100),
            .stageDone(path: "/a.jpg", stage: "fetch", seconds: 1),
            .stageRetrying(path: "/a.jpg", stage: "upload", attempt: 2, after: TimeSpan(seconds: 1), error: "503"),
        ]
        var normal = listedScreen(.normal), verbose = listedScreen(.verbose)
        #expect(transitions.flatMap { normal.apply($0, at: at(1)) }.isEmpty)
        let shown = transitions.flatMap { verbose.apply($0, at: at(1)) }
        #expect(shown.count == 3 && shown[0].contains("fetch started /a.jpg") && shown[2].contains("upload failed /a.jpg: 503"), "\(shown)")
    }

    @Test func eachFinishedItemScrollsOneLine() {
        var screen = listedScreen()
        #expect(screen.apply(.itemCompleted(path: "/a.jpg", size: 1000), at: at(1)) == ["00:00:01 completed /a.jpg (1.00KB)"])
        let failed = screen.apply(.itemFailed(path: "/b.jpg", stage: "upload", error: "quota", failures: 1, givenUp: false), at: at(2))
        #expect(failed.count == 1 && failed[0].contains("FAILED /b.jpg in upload: quota"))
        #expect(screen.apply(.itemSkipped(path: "/c.txt", reason: "not a photo"), at: at(3)).count == 1)
        #expect(screen.apply(.warning("disk nearly full"), at: at(3)).count == 1)
    }

    @Test func quietKeepsErrorsAndTheFinalSummaryAndDrawsNoBlock() {
        var screen = listedScreen(.quiet)
        #expect(screen.apply(.itemCompleted(path: "/a.jpg", size: 1000), at: at(1)).isEmpty)
        #expect(screen.apply(.stopping(reason: "SIGINT received"), at: at(1)).isEmpty)
        #expect(screen.block(width: 80, at: at(1)).isEmpty)
        #expect(screen.apply(.itemFailed(path: "/b.jpg", stage: "upload", error: "quota", failures: 1, givenUp: false), at: at(2)).count == 1)
        let summary = screen.apply(finishedEvent(completed: 1), at: at(3))
        #expect(summary.first?.contains("run finished: this run: 1 completed") == true && summary.last == SummaryText.rule)
        var narrow = listedScreen(.quiet)
        #expect(narrow.apply(finishedEvent(completed: 1), at: at(3), width: 48).last == String(repeating: "=", count: 47),
                "the summary's rules fit a narrow terminal")
    }

    @Test func aPlainLogKeepsEveryLineUnlessQuiet() {
        for level in [EventLevel.essential, .outcome, .detail] {
            #expect(Verbosity.normal.shows(level, live: false) && Verbosity.verbose.shows(level, live: false))
            #expect(Verbosity.quiet.shows(level, live: false) == (level == .essential))
        }
        #expect(!Verbosity.normal.shows(.detail, live: true) && Verbosity.verbose.shows(.detail, live: true))
    }

    @Test func theStartIsOneLine() {
        var screen = TerminalScreen(verbosity: .normal, colour: false)
        var summary = StateSummary()
        (summary.total, summary.completed, summary.pending) = (10, 6, 4)
        let lines = screen.apply(.runStarted(pipeline: "photos", summary: summary, maxFailures: 3), at: at(0))
        #expect(lines == ["00:00:00 run of 'photos' started; the state holds 6 completed, 0 failed, 0 skipped, 4 to do"])
    }

    @Test func completedFailedAndLeftAreCountedApart() {
        var screen = listedScreen(toDo: 10)
        for index in 0..<3 {
            _ = screen.apply(.stageStarted(path: "/\(index).jpg", stage: "fetch", attempt: 1), at: at(1))
            _ = screen.apply(.itemCompleted(path: "/\(index).jpg", size: 1_000_000), at: at(2))
        }
        _ = screen.apply(.itemFailed(path: "/3.jpg", stage: "upload", error: "x", failures: 1, givenUp: false), at: at(2))
        _ = screen.apply(.stageStarted(path: "/4.jpg", stage: "fetch", attempt: 1), at: at(2))
        _ = screen.apply(.stopping(reason: "SIGINT received"), at: at(3))
        _ = screen.apply(.itemLeft(path: "/4.jpg", stage: "fetch"), at: at(3))
        let block = screen.block(width: 120, at: at(3))
        #expect(block.count == 2, "nothing is in flight any more: \(block)")
        #expect(block[1].hasPrefix("3 completed · 1 failed · 6 left · 3s elapsed"), "\(block)")
        #expect(block[0].hasPrefix("Stopping · 3.00MB of 10.00MB (30%)"), "\(block)")
        _ = screen.apply(.itemSkipped(path: "/5.jpg", reason: "too large"), at: at(3))
        #expect(screen.block(width: 120, at: at(3))[1].hasPrefix("3 completed · 1 failed · 5 left · 1 skipped"))
    }

    @Test func rateAndETAComeFromTheInjectedClock() {
        var screen = listedScreen(toDo: 2, bytes: 4_000_000)
        _ = screen.apply(.stageStarted(path: "/a.jpg", stage: "fetch", attempt: 1), at: at(0))
        _ = screen.apply(.progress(path: "/a.jpg", stage: "fetch", bytes: 1_000_000, total: 2_000_000), at: at(2))
        let block = screen.block(width: 120, at: at(2))
        #expect(block[0] == "1.00MB of 4.00MB (25%) · 500.00KB/s · ETA 6s", "\(block)")
        #expect(block[2] == " * fetch /a.jpg  50% of 2.00MB", "\(block)")
        // A later stage going through the same bytes again does not count them twice.
        _ = screen.apply(.stageStarted(path: "/a.jpg", stage: "upload", attempt: 1), at: at(3))
        _ = screen.apply(.progress(path: "/a.jpg", stage: "upload", bytes: 500_000, total: 2_000_000), at: at(4))
        #expect(screen.block(width: 120, at: at(4))[0].hasPrefix("1.00MB of 4.00MB (25%)"))
        #expect(screen.block(width: 120, at: at(4))[2].hasPrefix(" * upload /a.jpg  25%"))
    }

    @Test func theBlockIsEmptyAfterTheRunFinished() {
        var screen = listedScreen()
        _ = screen.apply(.stageStarted(path: "/a.jpg", stage: "fetch", attempt: 1), at: at(1))
        #expect(screen.block(width: 80, at: at(1)).count == 3)
        _ = screen.apply(finishedEvent(completed: 0), at: at(2))
        #expect(screen.block(width: 80, at: at(2)).isEmpty)
    }

    @Test func everyBlockLineFitsNarrowTerminalsAndLongPathsKeepTheirFileName() {
        var screen = listedScreen(toDo: 100_000, bytes: 123_456_789_012)
        let paths = [
            "/Photos/2019/Summer holidays in the mountains with the whole family/DCIM/IMG_20190812_143012.jpg",
            "/写真/二〇一九年/夏休み/家族旅行/山の写真/とても長いフォルダの名前/写真_0001.jpg",
            "/a/" + String(repeating: "x", count: 200) + ".mov",
        ]
        for (index, path) in paths.enumerated() {
            _ = screen.apply(.stageStarted(path: path, stage: index == 0 ? "verify-checksum-long" : "upload", attempt: 1), at: at(1))
            _ = screen.apply(.progress(path: path, stage: "upload", bytes: 1_234_567, total: 9_876_543_210), at: at(2))
        }
        for width in [120, 80, 48, 30, 20] {
            let block = screen.block(width: width, at: at(3))
            #expect(block.count == 2 + paths.count)
            for line in block {
                #expect(DisplayColumns.width(of: line) <= width - 1, "\(width): '\(line)'")
            }
            if width >= 48 {
                #expect(block[2].hasSuffix("IMG_20190812_143012.jpg  0%") || block[2].contains("…/IMG_20190812_143012.jpg"), "\(width): \(block[2])")
                #expect(block[3].contains("写真_0001.jpg"), "\(width): \(block[3])")
                #expect(block[4].contains(".mov"), "\(width): \(block[4])")
            }
        }
    }

    @Test func manyItemsInFlightAreCountedNotListed() {
        var screen = listedScreen(toDo: 40)
        for index in 0..<15 { _ = screen.apply(.stageStarted(path: "/\(index).jpg", stage: "fetch", attempt: 1), at: at(1)) }
        let block = screen.block(width: 80, at: at(1))
        #expect(block.count == 2 + TerminalScreen.inFlightShown + 1)
        #expect(block.last == " … and 5 more in flight")
        let short = screen.block(width: 80, height: 8, at: at(1))
        #expect(short.count == 7 && short.last == " … and 11 more in flight", "the block leaves a row of an 8-row terminal: \(short)")
        #expect(screen.block(width: 80, height: 2, at: at(1)).count == 1)
    }

    @Test func coloursOnlyWhenAllowedAndControlCharactersAreEscaped() {
        var plain = listedScreen(), coloured = TerminalScreen(verbosity: .normal, colour: true)
        let failure = RunEvent.itemFailed(path: "/evil\u{1B}[2J\u{9B}31m.jpg", stage: "upload", error: "x", failures: 1, givenUp: false)
        let line = plain.apply(failure, at: at(1))[0]
        #expect(!line.contains("\u{1B}") && !line.contains("\u{9B}") && line.contains("\\x1B[2J\\x9B31m"), "\(line)")
        let red = coloured.apply(failure, at: at(1))[0]
        #expect(red.hasPrefix("\u{1B}[31m") && red.hasSuffix("\u{1B}[0m"))
        #expect(!TerminalReporter.colourAllowed(["NO_COLOR": "1"]) && TerminalReporter.colourAllowed(["NO_COLOR": ""]))
    }

    @Test func pathsAreShortenedInTheMiddle() {
        #expect(DisplayColumns.shortenedPath("/a/b/c.jpg", to: 20) == "/a/b/c.jpg")
        #expect(DisplayColumns.shortenedPath("/album/2019/summer/photo 12.jpg", to: 20) == "/album…/photo 12.jpg")
        #expect(DisplayColumns.shortenedPath("/x/averyveryverylongname.jpeg", to: 12) == "/ave…me.jpeg")
        #expect(DisplayColumns.width(of: "写真.jpg") == 8)
        #expect(DisplayColumns.cut("写真写真", to: 5) == "写真…")
    }
}
