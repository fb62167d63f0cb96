import Foundation
import PipelineCore
import Testing

extension EndToEnd {
/// `pipeline report --html`: the page written from a real state, and the page opened in a real
/// headless Chromium (Debian's, as CI has it), whose DOM and screenshot are checked.
@Suite("The run-history page in a browser")
struct ReportPageTests {
    /// Where the screenshots stay (for a person to look at; the note shows one).
    static let screenshot = PipelineProcess.repositoryRoot + "/.build/report-screenshot.png"
    static let darkScreenshot = PipelineProcess.repositoryRoot + "/.build/report-screenshot-dark.png"

    /// A name that would run a script, load an image and break out of attributes if it were not escaped.
    static let hostileName = #"<script>document.title="PWNED"</script> & <img src=x onerror="document.title='PWNED'"> "quoted""#

    /// A local pipeline (list → fetch → verify → upload → cleanup) over six files, named `name`.
    static func pipeline(named name: String) throws -> Sandbox {
        let sandbox = try Sandbox()
        try sandbox.makeFiles(count: 6, sizes: 2_000...9_000)
        try sandbox.writeLocalPipeline()
        let yaml = "'" + name.replacingOccurrences(of: "'", with: "''") + "'"
        let text = try String(contentsOfFile: sandbox.pipelineFile, encoding: .utf8).replacingOccurrences(of: "name: e2e", with: "name: \(yaml)")
        try sandbox.writePipeline(text)
        return sandbox
    }

    /// Thirty runs of a library of 1,520 items of about 25 MB: a day apart, an hour each, two killed,
    /// some failing, some stopped by the time budget.
    static func thirtyRuns() -> [RunRecord] {
        (0..<30).map { index in
            let number = Int64(index + 1), killed = number == 9 || number == 23
            let completed = 30 + (index * 7) % 25
            let failures: [FailureCategory: Int] = index % 5 == 0 ? [.unsupportedType: 2, .remoteMissing: 1] : [:]
            return RunRecord(number: number, runner: "gha/\(4100 + index)/r\(index)", startedAt: 1_796_000_000 + Double(index) * 86_400,
                             endedAt: killed ? nil : 1_796_000_000 + Double(index) * 86_400 + 3_600 + Double(index * 97),
                             exitCode: killed ? nil : (failures.isEmpty ? 75 : 1), completed: completed,
                             failed: failures.values.reduce(0, +), bytesCompleted: Int64(completed) * 24_500_000 + Int64(index) * 90_000_000,
                             failuresByCategory: failures, stopCause: killed || !failures.isEmpty ? nil : .timeBudget,
                             itemsLeft: killed ? nil : 1_520 - (index + 1) * 42, bytesLeft: nil)
        }
    }

    /// The PNG's numbers from Scripts/png-stats (decoded with Python's zlib).
    static func pngStats(_ path: String) throws -> [String: Any] {
        let output = try Command.output(["python3", PipelineProcess.repositoryRoot + "/Scripts/png-stats", path])
        return try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], "\(output)")
    }

    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// `value` grouped by thousands (`1,234`), as the page writes counts; Foundation's formatter,
    /// so the check does not reuse the code it checks.
    static func grouped(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: value)) ?? "\(value)"
    }

    @Test func aThirtyRunHistoryRendersItsChartsInChromiumAsARealPicture() throws {
        let browser = try HeadlessBrowser()
        try FileManager.default.createDirectory(atPath: (Self.screenshot as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let runs = Self.thirtyRuns()
        var summary = StateSummary()
        summary.completed = runs.reduce(0) { $0 + $1.completed }
        summary.completedBytes = runs.reduce(0) { $0 + $1.bytesCompleted }
        summary.failed = 9
        summary.givenUp = 2
        summary.total = 1_520
        let left = 1_520 - summary.completed - 2
        let plan = TransferPlan(sizes: Array(repeating: 24_500_000, count: left),
                                quotas: [QuotaModel(service: "Google Photos Library API", dailyRequests: 10_000, itemsPerSharedRequest: 50) { _ in 1 }])
        let page = HistoryPage(pipeline: "family-photos", generatedAt: Date(timeIntervalSince1970: 1_796_000_000 + 30 * 86_400),
                               summary: summary, plan: plan, runs: runs,
                               failures: [.unsupportedType: 4, .remoteMissing: 2, .network: 1, .tooLarge: 1])
        let file = sandbox.root + "/history.html"
        try page.html.write(toFile: file, atomically: true, encoding: .utf8)

        let dom = try browser.dom(of: file)
        #expect(dom.leftovers.isEmpty, "chromium left processes behind: \(dom.leftovers)")
        let html = dom.output
        #expect(Self.count("<svg", in: html) == 3, "progress, bytes per run, failures by category")
        #expect(Self.count("class=\"bar\"", in: html) == 30 && Self.count("class=\"done-dot\"", in: html) == 30)
        #expect(Self.count("class=\"fail-bar\"", in: html) == 5, "four categories and the uncategorised rest")
        for title in ["unsupported type", "remote file missing or changed", "network", "too large"] {
            #expect(html.contains(">\(title)<"), "\(title)")
        }
        #expect(html.contains("<strong>\(Self.grouped(summary.completed))</strong> of \(Self.grouped(summary.completed + left)) items"))
        #expect(html.contains("killed or still running") && html.contains("Google Photos Library API requests"))

        let light = try browser.screenshot(of: file, to: Self.screenshot)
        #expect(light.leftovers.isEmpty, "chromium left processes behind: \(light.leftovers)")
        let stats = try Self.pngStats(Self.screenshot)
        #expect(stats["width"] as? Int == 1280 && stats["height"] as? Int == 1800, "\(stats)")
        #expect((stats["colours"] as? Int ?? 0) > 50, "charts and text in several colours: \(stats)")
        #expect((stats["background_share"] as? Double ?? 1) < 0.95, "not a blank page: \(stats)")
        #expect((stats["colours_by_third"] as? [Int] ?? []).allSatisfy { $0 > 30 }, "text or charts in every third of the window: \(stats)")
        #expect(stats["background"] as? [Int] == [246, 248, 250], "light scheme: the sections' #f6f8fa covers most of it: \(stats)")
        try? FileManager.default.removeItem(atPath: "/tmp/report-screenshot.png")
        try FileManager.default.copyItem(atPath: Self.screenshot, toPath: "/tmp/report-screenshot.png")

        // Printed: a PDF of several pages (the print style sheet keeps sections whole).
        let printed = try browser.printToPDF(file, to: sandbox.root + "/history.pdf")
        #expect(printed.leftovers.isEmpty, "chromium left processes behind: \(printed.leftovers)")
        let pdf = try Data(contentsOf: URL(fileURLWithPath: sandbox.root + "/history.pdf"))
        let pages = String(decoding: pdf, as: UTF8.self).components(separatedBy: "/Count ").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }.max() ?? 0
        #expect(pdf.starts(with: Data("%PDF-".utf8)) && pages >= 2, "\(pdf.count) bytes, \(pages) pages")

        let dark = try browser.screenshot(of: file, to: Self.darkScreenshot, dark: true)
        #expect(dark.leftovers.isEmpty, "chromium left processes behind: \(dark.leftovers)")
        let darkStats = try Self.pngStats(Self.darkScreenshot)
        #expect(darkStats["background"] as? [Int] == [21, 27, 35], "prefers-color-scheme: dark gives the dark sections (#151b23): \(darkStats)")
    }

    @Test func aRealStatesPageOpensInChromiumWithItsNumbersAndAHostileNameStaysInert() throws {
        let browser = try HeadlessBrowser()
        let sandbox = try Self.pipeline(named: Self.hostileName)
        defer { sandbox.remove() }
        for _ in 0..<2 {
            let run = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
            #expect(run.status == 0, "\(run.output.suffix(600)) \(run.error.suffix(600))")
        }
        let report = try PipelineProcess.run(["report", "pipeline.yml", "--html", "report.html"], in: sandbox.root)
        #expect(report.status == 0 && report.error.contains("report: wrote report.html"), "\(report.error)")
        let file = sandbox.root + "/report.html"

        let dom = try browser.dom(of: file)
        #expect(dom.leftovers.isEmpty, "chromium left processes behind: \(dom.leftovers)")
        let html = dom.output
        #expect(html.hasPrefix("<!DOCTYPE html>") || html.hasPrefix("<html"), "\(html.prefix(200))")
        #expect(!html.lowercased().contains("<script") && !html.lowercased().contains("<img"), "the name made no element")
        #expect(!html.contains("<title>PWNED"), "no script ran")
        #expect(html.contains("<title>&lt;script&gt;document.title=\"PWNED\"&lt;/script&gt; &amp; &lt;img"), "\(html.prefix(1200))")
        #expect(html.contains("<h1>&lt;script&gt;"))
        #expect(html.contains("100% <small>done</small>") && html.contains("<strong>6</strong> of 6 items"), "\(html.prefix(3000))")
        #expect(html.contains("Nothing left to do.") && html.contains("No failed items."))
        // The state's own run history: both runs in the table (the first did the 6 items, the second
        // nothing), and the charts drawn from them rather than the empty state.
        #expect(!html.contains("No runs recorded yet"), "\(html.prefix(3000))")
        let rows = html.components(separatedBy: "<tr><td class=\"num\">").dropFirst().map { $0.prefix(while: { $0 != "<" }) }
        #expect(rows == ["2", "1"], "the runs table, newest first: \(rows)")
        #expect(html.components(separatedBy: "<td>0 · done</td>").count == 3, "both runs ended with 0: \(html.suffix(3000))")

        let visit = try browser.screenshot(of: file, to: sandbox.root + "/report.png")
        #expect(visit.leftovers.isEmpty, "chromium left processes behind: \(visit.leftovers)")
        let stats = try Self.pngStats(sandbox.root + "/report.png")
        #expect(stats["width"] as? Int == 1280 && stats["height"] as? Int == 1800 && (stats["colours"] as? Int ?? 0) > 20, "\(stats)")
        #expect((stats["background_share"] as? Double ?? 1) < 0.99, "\(stats)")
    }

    @Test func theReportGoesToStandardOutputReplacesItsFileWholeAndRefusesAFolder() throws {
        let sandbox = try Self.pipeline(named: "photos-backup")
        defer { sandbox.remove() }
        let run = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(run.status == 0, "\(run.error.suffix(600))")

        let toStdout = try PipelineProcess.run(["report", "pipeline.yml", "--html", "-"], in: sandbox.root)
        #expect(toStdout.status == 0 && toStdout.output.hasPrefix("<!DOCTYPE html>") && toStdout.output.hasSuffix("</html>"),
                "\(toStdout.output.prefix(200)) \(toStdout.error)")
        #expect(toStdout.output.contains("<h1>photos-backup</h1>"))

        let folder = try PipelineProcess.run(["report", "pipeline.yml", "--html", "dest"], in: sandbox.root)
        #expect(folder.status == 64 && folder.error.contains("--html 'dest' is a folder, not a file") && folder.error.contains("dest/report.html"),
                "\(folder.status) \(folder.error)")
        let noFolder = try PipelineProcess.run(["report", "pipeline.yml", "--html", "nowhere/report.html"], in: sandbox.root)
        #expect(noFolder.status == 74 && noFolder.error.contains("the folder 'nowhere' does not exist"), "\(noFolder.status) \(noFolder.error)")
        let missing = try PipelineProcess.run(["report", "pipeline.yml"], in: sandbox.root)
        #expect(missing.status == 64 && missing.error.contains("--html <OUT>"), "says what is needed: \(missing.error)")

        let out = sandbox.root + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "an old page".write(toFile: out + "/report.html", atomically: true, encoding: .utf8)
        let written = try PipelineProcess.run(["report", "--state", "test.state", "--html", "out/report.html"], in: sandbox.root)
        #expect(written.status == 0, "\(written.error)")
        let page = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<h1>photos-backup</h1>"), "without the pipeline file, the state's owner names it")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["report.html"], "no temporary file left beside it")
        let mode = try FileManager.default.attributesOfItem(atPath: out + "/report.html")[.posixPermissions] as? Int
        #expect(mode == 0o644, "readable by others, like any page: \(String(mode ?? 0, radix: 8))")
    }
}
}

