import Foundation
import Testing
@testable import PipelineCore

/// docs/json-output.md names every event and field `--log-format json` and `status --json` can emit,
/// so the page cannot drift from the code.
@Suite struct JSONOutputDocumentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let document = (try? String(contentsOf: root.appendingPathComponent("docs/json-output.md"), encoding: .utf8)) ?? ""

    /// The text of the `### name` section of the page, up to the next heading.
    static func section(_ name: String) -> String? {
        guard let start = document.range(of: "\n### \(name)\n") ?? document.range(of: "\n### `\(name)`\n") else { return nil }
        let rest = document[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n#")?.lowerBound ?? rest.endIndex)])
    }

    static func matches(_ pattern: String, in file: String) throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
        let expression = try NSRegularExpression(pattern: pattern, options: .anchorsMatchLines)
        return Set(expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        })
    }

    /// The JSON lines JSONReporter writes for `events`.
    static func lines(for events: [RunEvent]) throws -> [[String: Any]] {
        let path = NSTemporaryDirectory() + "json-output-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let reporter = JSONReporter(writer: LineWriter(handle: handle, redactor: SecretRedactor(secrets: [])))
        for event in events { reporter.report(event) }
        try handle.close()
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    @Test func everyEventTheReporterCanWriteHasASection() throws {
        let names = try Self.matches(#"set\("([a-z_]+)""#, in: "Sources/PipelineCore/Report/JSONReporter.swift")
        #expect(names.count >= 17, "the reporter's event names were not found: \(names)")
        for name in names.sorted() {
            #expect(Self.section(name) != nil, "docs/json-output.md has no section for the event \(name)")
        }
    }

    @Test func everyFieldOfEveryEventIsInItsSection() throws {
        var outcome = RunOutcome()
        outcome.stoppedBy = .timeBudget
        let summary = StateSummary()
        let events: [RunEvent] = [
            .runStarted(pipeline: "p", summary: summary, maxFailures: 3), .notice("n"), .warning("w"),
            .listed(found: 1, selected: 1, toDo: 1, bytesToDo: 1), .stageStarted(path: "a", stage: "s", attempt: 1),
            .stageDone(path: "a", stage: "s", seconds: 1), .stageRetrying(path: "a", stage: "s", attempt: 1, after: TimeSpan(seconds: 1), error: "e"),
            .stageLog(path: "a", stage: "s", message: "m"), .progress(path: "a", stage: "s", bytes: 1, total: 2),
            .wentBack(path: "a", to: "s", reason: "r"), .itemCompleted(path: "a", size: 1),
            .itemFailed(path: "a", stage: "s", error: "e", failures: 1, givenUp: false), .itemSkipped(path: "a", reason: "r"),
            .itemLeft(path: "a", stage: "s"), .givenUp([GivenUpItem(path: "a", stage: "s", error: "e", failures: 3)]),
            .stopping(reason: "r"), .runFinished(outcome: outcome, summary: summary, maxFailures: 3),
        ]
        let lines = try Self.lines(for: events)
        #expect(lines.count == events.count)
        for line in lines {
            let name = try #require(line["event"] as? String)
            let section = try #require(Self.section(name), "no section for \(name)")
            for (key, value) in line where key != "time" && key != "event" {
                #expect(section.contains("| `\(key)` |"), "\(name).\(key) is not in its section")
                for (nested, nestedKeys) in [("outcome", value), ("summary", value)] where key == nested {
                    for inner in (nestedKeys as? [String: Any] ?? [:]).keys {
                        #expect(Self.section(nested)?.contains("| `\(inner)` |") == true, "\(nested).\(inner) is not documented")
                    }
                }
                for item in value as? [[String: Any]] ?? [] {
                    for inner in item.keys {
                        #expect(section.contains("| `\(key)[].\(inner)` |"), "\(name).\(key)[].\(inner) is not documented")
                    }
                }
            }
        }
    }

    @Test func everyFieldOfStatusJSONIsDocumented() throws {
        let file = "Sources/PipelineCore/State/StatusReport.swift"
        let status = try #require(Self.document.range(of: "## `pipeline status --json`")).upperBound
        let page = String(Self.document[status...])
        for key in try Self.matches(#"fields\["([a-z_]+)"\]"#, in: file).union(Self.matches(#"^\s*"([a-z_]+)": "#, in: file)) {
            #expect(page.contains("| `items[].\(key)` |") || page.contains("| `\(key)` |"), "status --json item field \(key) is not documented")
        }
        for key in try Self.matches(#"stage\["([a-z_]+)"\]"#, in: file).union(Self.matches(#""([a-z_]+)": \.[a-z]+\(record"#, in: file)) {
            #expect(page.contains("| `items[].stages.NAME.\(key)` |"), "status --json stage field \(key) is not documented")
        }
    }
}
