import Foundation
import Synchronization

/// Wraps the plain reporter when the run is a GitHub Actions step (`GITHUB_ACTIONS=true`): masks
/// the pipeline's secrets with `::add-mask::`, folds the long middle of the log into a
/// `::group::`, turns item failures and stops into `::error::`/`::warning::` annotations, and
/// appends the run's summary as Markdown to `$GITHUB_STEP_SUMMARY`.
///
/// Workflow commands are only lines on stdout; outside Actions none of this is printed.
public final class GitHubActionsReporter: Reporter {
    /// What the runner tells a step through its environment.
    public struct Environment: Sendable {
        public var stepSummaryPath: String?

        /// Nil unless `GITHUB_ACTIONS` is `true`.
        public init?(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
            guard variables["GITHUB_ACTIONS"] == "true" else { return nil }
            stepSummaryPath = variables["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    private struct Failure {
        var path: String
        var stage: String
        var error: String
    }

    private let inner: any Reporter
    private let writer: LineWriter
    private let redactor: SecretRedactor
    private let secrets: [String]
    private let environment: Environment
    private let pipelineName = Mutex("")
    private let failures = Mutex<[Failure]>([])
    private let givenUp = Mutex<[GivenUpItem]>([])
    private let categories = Mutex<[FailureCount]>([])
    /// Failures listed in the step summary; the rest are counted.
    static let failuresShown = 50

    public init(wrapping inner: any Reporter, writer: LineWriter, redactor: SecretRedactor, secrets: some Sequence<String>,
                environment: Environment) {
        self.inner = inner
        self.writer = writer
        self.redactor = redactor
        self.secrets = secrets.filter { !$0.isEmpty }.sorted()
        self.environment = environment
    }

    public func report(_ event: RunEvent) {
        switch event {
        case .runStarted(let pipeline, _, _):
            pipelineName.withLock { $0 = pipeline }
            // Before anything else is printed, so the runner masks the values in every later line.
            for secret in secrets { writer.unredactedLine("::add-mask::\(Self.escapedData(secret))") }
            writer.line("::group::State before the run")
            inner.report(event)
            writer.line("::endgroup::")
            writer.line("::group::Transfers (one line per stage transition)")
        case .itemFailed(let path, let stage, let error, _, _):
            inner.report(event)
            failures.withLock { $0.append(Failure(path: path, stage: stage, error: redactor.redact(error))) }
            writer.line("::error title=\(Self.escapedProperty("\(stage) failed: \(path)"))::\(Self.escapedData(redactor.redact(error)))")
        case .givenUp(let items):
            inner.report(event)
            givenUp.withLock { $0 = items }
            // One annotation per item: they show on the run's page, where a person will look.
            for item in items.prefix(GivenUpItem.listed) {
                let error = redactor.redact(item.error)
                writer.line("::warning title=Given up::\(Self.escapedData("\(item.path): failed \(item.failures) runs\(item.stage.map { " at \($0)" } ?? ""); last error: \(error). Fix the cause, then run the workflow with retry: \(item.path) (or all-failed), or forget: \(item.path)"))")
            }
        case .failureCategories(let counts):
            inner.report(event)
            categories.withLock { $0 = counts }
        case .warning(let message), .stopping(let message):
            inner.report(event)
            writer.line("::warning::\(Self.escapedData(redactor.redact(message)))")
        case .runFinished(let outcome, let summary, _):
            writer.line("::endgroup::")
            inner.report(event)
            // Stops that only a person can lift are errors, not the "run again" kind.
            let needsAPerson: [RunOutcome.StopCause: String] = [.notAuthorized: "Not authorised", .destinationFull: "Destination full",
                                                                 .destinationHasUploads: "State does not match the destination"]
            if let cause = outcome.stoppedBy, let title = needsAPerson[cause] {
                writer.line("::error title=\(title)::\(Self.escapedData(SummaryText.outcomeLine(outcome)))")
            }
            writeStepSummary(outcome: outcome, summary: summary)
        default:
            inner.report(event)
        }
    }

    public func finish() { inner.finish() }

    private func writeStepSummary(outcome: RunOutcome, summary: StateSummary) {
        guard let path = environment.stepSummaryPath else { return }
        let failed = failures.withLock { $0 }
        var markdown = """
            ## pipeline run: \(Self.markdownText(pipelineName.withLock { $0 }))

            \(Self.markdownText(SummaryText.outcomeLine(outcome))) — exit status \(outcome.exitStatus.rawValue)

            | state | files |
            |---|---:|
            | completed | \(summary.completed) (\(ByteSize.format(summary.completedBytes)) of \(ByteSize.format(summary.totalBytes))) |
            | failed | \(summary.failed)\(summary.givenUp > 0 ? " (\(summary.givenUp) given up)" : "") |
            | skipped | \(summary.skipped) |
            | pending or in progress | \(summary.pending + summary.inProgress) |

            """
        if let plan = outcome.plan, plan.items > 0 { markdown += "\n**Left:** \(Self.markdownText(plan.line()))\n" }
        if !failed.isEmpty {
            markdown += "\n### Failed in this run\n\n| item | stage | error |\n|---|---|---|\n"
            for failure in failed.prefix(Self.failuresShown) {
                markdown += "| `\(Self.markdownText(failure.path))` | \(failure.stage) | \(Self.markdownText(failure.error)) |\n"
            }
            if failed.count > Self.failuresShown { markdown += "\n…and \(failed.count - Self.failuresShown) more (`pipeline status`).\n" }
        }
        let counts = categories.withLock { $0 }
        if !counts.isEmpty {
            markdown += "\n### Failures by category\n\n| category | items | suggestion |\n|---|---:|---|\n"
            for count in counts {
                markdown += "| \(count.category.title) | \(count.count) | \(Self.markdownText(FailureAdvice.suggestion(count.category, .category))) |\n"
            }
            markdown += "\n`pipeline failures` groups them by folder, extension and message, with a fix for each.\n"
        }
        let setAside = givenUp.withLock { $0 }
        if !setAside.isEmpty {
            markdown += "\n### Given up (\(setAside.count): failed \(setAside.map(\.failures).min() ?? 0)+ runs, not tried until retried)\n\n"
            markdown += "| item | stage | failed runs | last error |\n|---|---|---:|---|\n"
            for item in setAside.prefix(GivenUpItem.listed) {
                markdown += "| `\(Self.markdownText(item.path))` | \(item.stage ?? "") | \(item.failures) | \(Self.markdownText(item.error)) |\n"
            }
            if setAside.count > GivenUpItem.listed { markdown += "\n…and \(setAside.count - GivenUpItem.listed) more (`pipeline status`).\n" }
            markdown += "\nRun the workflow by hand with `retry` (a path, or `all-failed`) once the cause is fixed, or `forget` an item.\n"
        }
        let data = Data(redactor.redact(markdown + "\n").utf8)
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(data)
            try? handle.close()
        } else {
            FileManager.default.createFile(atPath: path, contents: data)
        }
    }

    /// A workflow command's message: `%`, CR and LF escaped, as the runner expects.
    static func escapedData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }

    /// A workflow command's property (`title=`): also `:` and `,`.
    static func escapedProperty(_ text: String) -> String {
        escapedData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    /// Text in a Markdown table cell: no line breaks, no cell separators.
    static func markdownText(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}
