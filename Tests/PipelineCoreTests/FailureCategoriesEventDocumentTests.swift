import Foundation
import Testing
@testable import PipelineCore

/// The `failure_categories` event and `pipeline failures --json` write only what
/// docs/json-output.md names.
@Suite struct FailureCategoriesEventDocumentTests {
    @Test func everyFieldOfTheEventIsInItsSection() throws {
        let lines = try JSONOutputDocumentTests.lines(for: [.failureCategories([FailureCount(category: .network, count: 2)])])
        let line = try #require(lines.first)
        #expect(line["event"] as? String == "failure_categories")
        let section = try #require(JSONOutputDocumentTests.section("failure_categories"))
        let categories = try #require(line["categories"] as? [[String: Any]])
        #expect(section.contains("| `categories` |"))
        for key in categories.first?.keys ?? [:].keys {
            #expect(section.contains("| `categories[].\(key)` |"), "failure_categories.categories[].\(key) is not documented")
        }
        #expect(categories.first?["suggestion"] as? String == FailureAdvice.suggestion(.network, .category))
    }

    @Test func everyFieldOfFailuresJSONIsDocumented() throws {
        var analysis = FailureAnalysis()
        var record = ItemRecord(path: "/a/b.jpg", status: .failed)
        record.failures = 2
        for path in ["/a/b.jpg", "/a/c.jpg"] {
            record.path = path
            analysis.add(StoredItem(record: record, failures: [FailureEvidence(path: path, run: 3, stage: "fetch", category: .network, error: "reset",
                                                                                 attempt: 1, at: 0)]))
        }
        let document = try #require(try JSONSerialization.jsonObject(with: Data(FailureReport.json(analysis, limit: 5).utf8)) as? [String: Any])
        let whole = JSONOutputDocumentTests.document
        let start = try #require(whole.range(of: "## `pipeline failures --json`"))
        let page = String(whole[start.upperBound...])
        for key in document.keys { #expect(page.contains("| `\(key)` |"), "failures --json field \(key) is not documented") }
        let groups = try #require(document["groups"] as? [String: [[String: Any]]])
        #expect(Set(groups.keys) == ["category", "folder", "extension", "message"])
        for group in groups.values.flatMap({ $0 }) {
            for key in group.keys { #expect(page.contains("| `groups.KIND[].\(key)` |"), "failures --json group field \(key) is not documented") }
        }
    }
}
