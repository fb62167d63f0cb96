/// The table of runs on the history page, newest first: number, runner, start, duration, exit,
/// completed, failed, bytes and why it stopped. A long history shows its latest `limit` runs.
struct RunTable {
    let runs: [RunRecord]
    let limit: Int

    init(runs: [RunRecord], limit: Int = HistoryPage.tableLimit) {
        self.runs = runs
        self.limit = max(1, limit)
    }

    var html: String {
        let shown = runs.suffix(limit).reversed()
        var html = ""
        if runs.count > shown.count {
            html += "<p class=\"note\">The latest \(ReadableNumber.count(shown.count)) of \(ReadableNumber.count(runs.count)) runs; the charts above show them all.</p>"
        }
        html += "<table class=\"runs\"><thead><tr><th scope=\"col\">Run</th><th scope=\"col\">Started (UTC)</th><th scope=\"col\">Duration</th>"
            + "<th scope=\"col\">Exit</th><th scope=\"col\" class=\"num\">Completed</th><th scope=\"col\" class=\"num\">Failed</th>"
            + "<th scope=\"col\" class=\"num\">Bytes</th><th scope=\"col\">Stopped because</th><th scope=\"col\">Runner</th></tr></thead><tbody>"
        for run in shown {
            let ended = run.endedAt.map { ReadableNumber.duration(seconds: $0 - run.startedAt) }
            html += "<tr\(run.endedAt == nil ? " class=\"unfinished\"" : "")><td class=\"num\">\(ReadableNumber.count(run.number))</td>"
                + "<td>\(ReadableNumber.minute(run.startedAt))</td>"
                + "<td>\(ended ?? "—")</td>"
                + "<td>\(run.endedAt == nil ? "<span class=\"warn\">killed or still running</span>" : Self.exit(run.exitCode))</td>"
                + "<td class=\"num\">\(ReadableNumber.count(run.completed))</td>"
                + "<td class=\"num\(run.failed > 0 ? " bad" : "")\">\(ReadableNumber.count(run.failed))</td>"
                + "<td class=\"num\">\(ReadableNumber.bytes(run.bytesCompleted))</td>"
                + "<td>\(run.stopCause.map(Self.title) ?? "")</td>"
                + "<td class=\"runner\">\(HTMLText.escape(run.runner))</td></tr>"
        }
        return html + "</tbody></table>"
    }

    /// `0 · done`, `75 · stopped early`; the number alone for a status without a short word.
    static func exit(_ code: Int32?) -> String {
        guard let code else { return "—" }
        let word: String? = switch ExitStatus(rawValue: code) {
        case .success?: "done"
        case .itemsFailed?: "items failed"
        case .stoppedEarly?: "stopped early"
        case .unavailable?: "unavailable"
        case .notAuthorized?: "not authorised"
        case .configuration?: "configuration"
        case .stateLocked?: "state in use"
        case .ioError?: "I/O error"
        default: nil
        }
        return word.map { "\(code) · \($0)" } ?? "\(code)"
    }

    /// Why a run stopped early, in a few words.
    static func title(_ cause: RunOutcome.StopCause) -> String {
        switch cause {
        case .timeBudget: "time budget"
        case .signal: "signal (SIGINT/SIGTERM)"
        case .stateUnwritable: "state not writable"
        case .quotaExhausted: "daily quota used up"
        case .notAuthorized: "credentials refused"
        case .destinationFull: "destination full"
        case .destinationHasUploads: "destination holds unknown uploads"
        case .outage: "service outage"
        }
    }
}
