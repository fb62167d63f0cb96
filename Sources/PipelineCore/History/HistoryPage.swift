import Foundation

/// The run history as one self-contained HTML page (`pipeline report --html`): the remaining
/// estimate as a headline, progress over runs, bytes per run, failed items by category and the
/// table of runs. Inline CSS and SVG only — no script, no URL of any kind — so it opens anywhere,
/// offline, in light and dark schemes, and prints.
///
/// Pure: everything it shows comes in; every string from the state is escaped (`HTMLText`).
public struct HistoryPage: Sendable {
    public var pipeline: String
    public var generatedAt: Date
    public var summary: StateSummary
    public var plan: TransferPlan
    /// Oldest first, as `StateStore.runs(limit:)` gives them.
    public var runs: [RunRecord]
    /// The failed items by the category of their last failure (`StateStore.failedItemsByCategory()`).
    public var failures: [FailureCategory: Int]

    /// How many runs the table lists, the latest (the charts show every run given).
    public static let tableLimit = 50

    public init(pipeline: String, generatedAt: Date, summary: StateSummary, plan: TransferPlan, runs: [RunRecord],
                failures: [FailureCategory: Int]) {
        self.pipeline = pipeline
        self.generatedAt = generatedAt
        self.summary = summary
        self.plan = plan
        self.runs = runs
        self.failures = failures
    }

    public var html: String {
        let name = HTMLText.escape(pipeline)
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <title>\(name) · pipeline report</title>
            <style>\(HistoryPageStyle.css)</style>
            </head><body><main>
            <header><h1>\(name)</h1><p>Run history · generated \(ReadableNumber.minute(generatedAt.timeIntervalSince1970)) UTC · \(runsRecorded)</p></header>

            """
        page += headline
        if runs.isEmpty {
            page += Self.section(id: "runs-empty", title: nil, class: "empty", """
                <h2>No runs recorded yet</h2>
                <p>Every <code>pipeline run</code> records when it ran, what it completed and why it stopped; \
                this page draws progress over runs and bytes per run from those records.</p>
                <p>Run <code>pipeline run FILE</code>, then <code>pipeline report FILE --html OUT</code> again. \
                (Runs made before pipeline kept a run history are counted above but not drawn.)</p>
                """)
        } else {
            let series = RunSeries(runs: runs, completedNow: summary.completed)
            let perGroup = series.runsPerGroup == 1 ? "one point per run" : "each point: \(series.runsPerGroup) consecutive runs"
            page += Self.section(id: "progress", title: "Progress over runs", """
                <p class="hint">Items done and items left after each run (\(perGroup)).</p>
                <p class="legend"><span><span class="swatch done"></span>done</span><span><span class="swatch left"></span>left</span></p>
                \(ProgressChart(series: series).svg)
                """)
            page += Self.section(id: "bytes", title: "Bytes per run", """
                <p class="hint">\(series.runsPerGroup == 1 ? "One bar per run" : "Each bar: the average run of \(series.runsPerGroup) consecutive runs"), by run number.</p>
                \(BytesChart(series: series).svg)
                """)
        }
        page += failureSection
        if !runs.isEmpty { page += Self.section(id: "runs", title: "Runs", RunTable(runs: runs).html) }
        return page + "<footer>Made by <code>pipeline report</code>. Times are UTC.</footer>\n</main></body></html>\n"
    }

    private var runsRecorded: String {
        guard let first = runs.first, let last = runs.last else { return "no runs recorded" }
        if first.number > 1 { return "runs \(ReadableNumber.count(first.number))–\(ReadableNumber.count(last.number)) (earlier runs not shown)" }
        return "\(ReadableNumber.count(runs.count)) run\(runs.count == 1 ? "" : "s")"
    }

    /// What is done, as a percentage and a bar, and what is left with the day it should be done.
    private var headline: String {
        let willBeDone = RunSeries.total([Int64(summary.completed), Int64(plan.items)])
        let percent = ReadableNumber.percentValue(Int64(summary.completed), of: willBeDone)
        var html = "<div class=\"big\">\(percent)% <small>done</small></div>"
        html += "<div class=\"progress\" role=\"progressbar\" aria-label=\"items done\" aria-valuemin=\"0\" aria-valuemax=\"100\" aria-valuenow=\"\(percent)\">"
            + "<div class=\"fill\" style=\"width: \(percent)%\"></div></div>"
        html += "<p class=\"counts\"><strong>\(ReadableNumber.count(summary.completed))</strong> of \(ReadableNumber.count(willBeDone)) items · "
            + "<strong>\(ReadableNumber.bytes(summary.completedBytes))</strong> of \(ReadableNumber.bytes(RunSeries.total([summary.completedBytes, plan.bytes])))</p>"
        html += "<p class=\"estimate\">\(estimate)</p>"
        html += "<dl class=\"tiles\">" + [
            ("Completed", summary.completed, false), ("Left to run", plan.items, false), ("Failed", summary.failed, summary.failed > 0),
            ("Gave up", summary.givenUp, summary.givenUp > 0), ("Skipped", summary.skipped, false),
        ].map { "<div\($0.2 ? " class=\"bad\"" : "")><dt>\($0.0)</dt><dd>\(ReadableNumber.count($0.1))</dd></div>" }.joined() + "</dl>"
        return Self.section(id: "headline", title: nil, class: "headline", html)
    }

    /// The remaining estimate in words (`TransferPlan`'s numbers).
    private var estimate: String {
        guard plan.items > 0 else {
            if summary.total == 0 { return "Nothing listed yet: the first run lists the source." }
            return summary.givenUp > 0
                ? "Nothing left that a run would try; \(ReadableNumber.count(summary.givenUp)) item\(summary.givenUp == 1 ? "" : "s") gave up (<code>pipeline retry</code> tries again)."
                : "Nothing left to do."
        }
        var text = "<strong>\(ReadableNumber.count(plan.items))</strong> item\(plan.items == 1 ? "" : "s") (\(ReadableNumber.bytes(plan.bytes))) left"
        guard !plan.quotas.isEmpty else { return text + "; no daily quota limits this pipeline." }
        text += ": " + plan.quotas.map {
            "\(ReadableNumber.count($0.requests)) \(HTMLText.escape($0.service)) requests, \($0.days) day\($0.days == 1 ? "" : "s") at \(ReadableNumber.count($0.dailyRequests)) a day"
        }.joined(separator: "; ")
        return text + " — quota allowing, done around <strong>\(plan.doneAround(from: generatedAt))</strong>."
    }

    private var failureSection: String {
        let chart = CategoryChart(failures: failures, failedNow: summary.failed)
        guard !chart.rows.isEmpty else {
            return Self.section(id: "failures", title: "Failed items by category", "<p class=\"hint\">No failed items.</p>")
        }
        let given = summary.givenUp > 0
            ? " \(ReadableNumber.count(summary.givenUp)) gave up and wait for <code>pipeline retry</code>." : ""
        return Self.section(id: "failures", title: "Failed items by category", """
            <p class="hint">Items whose last run failed them, by the kind of failure.\(given) \
            <code>pipeline failures FILE</code> groups them further and suggests a fix for each group.</p>
            \(chart.svg)
            """)
    }

    private static func section(id: String, title: String?, class name: String? = nil, _ body: String) -> String {
        "<section id=\"\(id)\"\(name.map { " class=\"\($0)\"" } ?? "")>" + (title.map { "<h2>\($0)</h2>" } ?? "") + body + "</section>\n"
    }
}
