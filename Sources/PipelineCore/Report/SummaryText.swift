import Foundation

/// The state summary in the seed's layout, printed at the start and end of every run and by `status`.
public enum SummaryText {
    public static let rule = String(repeating: "=", count: 80)

    public static func render(_ summary: StateSummary, inProgress: [ItemRecord] = [], failures: [ItemRecord] = [],
                              skipped: [ItemRecord] = [], maxFailures: Int, title: String = "UPLOAD STATE SUMMARY") -> String {
        var lines = [rule, "📊 \(title)", rule]
        lines.append("✅ Completed: \(summary.completed) files")
        lines.append("❌ Failed: \(summary.failed) files" + (summary.givenUp > 0 ? " (\(summary.givenUp) gave up after \(maxFailures) failed runs; `pipeline retry`)" : ""))
        lines.append("⏭️  Skipped: \(summary.skipped) files")
        lines.append("⏳ Pending: \(summary.pending) files, in progress: \(summary.inProgress)")
        lines.append("📦 Total uploaded: \(ByteSize.format(summary.completedBytes)) of \(ByteSize.format(summary.totalBytes)) listed")
        for item in inProgress.prefix(10) {
            lines.append("🔄 In progress: \(item.path)" + (item.stage.map { " (at \($0))" } ?? ""))
        }
        if inProgress.count > 10 { lines.append("   … and \(inProgress.count - 10) more in progress") }
        if !failures.isEmpty {
            lines.append("⚠️  Files with failures:")
            for item in failures.prefix(20) {
                let attempts = "\(item.failures) attempt\(item.failures == 1 ? "" : "s")"
                lines.append("   • \(item.path): \(attempts)" + (item.lastError.map { " — \($0)" } ?? ""))
            }
            if failures.count > 20 { lines.append("   … and \(failures.count - 20) more") }
        }
        if !skipped.isEmpty {
            lines.append("⏭️  Skipped files:")
            for item in skipped.prefix(20) {
                lines.append("   • \(item.path)" + (item.skipReason.map { ": \($0)" } ?? ""))
            }
            if skipped.count > 20 { lines.append("   … and \(skipped.count - 20) more") }
        }
        lines.append(rule)
        return lines.joined(separator: "\n")
    }

    /// The summary of a store, with its lists.
    public static func render(store: any StateStore, maxFailures: Int) throws -> String {
        let items = try store.allItems()
        return render(try store.summary(maxFailures: maxFailures),
                      inProgress: items.filter { $0.status == .inProgress },
                      failures: items.filter { $0.status == .failed },
                      skipped: items.filter { $0.status == .skipped },
                      maxFailures: maxFailures)
    }

    public static func outcomeLine(_ outcome: RunOutcome) -> String {
        var parts = ["this run: \(outcome.completed) completed", "\(outcome.failed) failed", "\(outcome.skipped) skipped"]
        if outcome.left + outcome.notStarted > 0 { parts.append("\(outcome.left + outcome.notStarted) left for the next run") }
        if outcome.waiting > 0 { parts.append("\(outcome.waiting) waiting for their time window or the next quota day") }
        if outcome.leftToOthers > 0 { parts.append("\(outcome.leftToOthers) unfinished in the shared state (other runners')") }
        parts.append("\(ByteSize.format(outcome.bytesCompleted)) in \(TimeSpan(seconds: outcome.seconds))")
        var line = parts.joined(separator: ", ")
        switch outcome.stoppedBy {
        case .timeBudget?: line += " — stopped by the time budget; run again to continue"
        case .signal?: line += " — stopped by a signal; run again to continue"
        case .stateUnwritable?: line += " — stopped: the state could not be written (see the warning above)"
        case .quotaExhausted?: line += " — stopped: the destination's daily quota is used up; run again after it resets"
        case .notAuthorized?: line += " — stopped: the destination refused the credentials; re-authorise, then run again"
        case .destinationFull?: line += " — stopped: the destination's storage is full; free space, then run again"
        case .outage?: line += " — stopped: a service seems down (see above); nothing was counted as failed, run again later"
        case .destinationHasUploads?: line += " — stopped: the destination holds uploads this state does not know of (see above)"
        case nil: break
        }
        return line
    }
}
