import Testing
@testable import PipelineCore

/// `pipeline failures`' groups, persistence and suggestions, from records alone (no state, no I/O).
@Suite("Failures are grouped with a fix for each group")
struct FailureAnalysisTests {
    /// A failed item whose last failure is `category` with `error`, failed `failures` of `tried` runs.
    static func failed(_ path: String, _ category: FailureCategory, _ error: String, stage: String = "upload", failures: Int = 1,
                       tried: Int = 1, run: Int64 = 1) -> StoredItem {
        var record = ItemRecord(path: path, size: 1, status: .failed)
        record.failures = failures
        record.triedRuns = tried
        record.lastError = error
        record.lastCategory = category
        record.stage = stage
        let evidence = FailureEvidence(path: path, run: run, stage: stage, category: category, error: error, attempt: 1, at: 0)
        return StoredItem(record: record, failures: [evidence])
    }

    @Test func persistentMeansFailedInEveryRunThatTriedItAtLeastTwice() {
        var item = ItemRecord(path: "/a", status: .failed)
        (item.failures, item.triedRuns) = (2, 2)
        #expect(item.isPersistentFailure)
        (item.failures, item.triedRuns) = (2, 3)
        #expect(!item.isPersistentFailure)
        (item.failures, item.triedRuns) = (1, 1)
        #expect(!item.isPersistentFailure)
        // A state from before tried runs were counted: every recorded failure counts.
        (item.failures, item.triedRuns) = (3, 0)
        #expect(item.isPersistentFailure)
        item.status = .pending
        #expect(!item.isPersistentFailure)
    }

    @Test func itemsAreGroupedByCategoryFolderExtensionAndMessage() throws {
        var analysis = FailureAnalysis()
        for index in 0..<5 {
            analysis.add(Self.failed("/2024/clips/c\(index).MTS", .unsupportedType, "NOT_IMAGE: '/2024/clips/c\(index).MTS' refused", failures: 2, tried: 2))
        }
        analysis.add(Self.failed("/2024/clips/big.mkv", .tooLarge, "too large: 25 GB"))
        for index in 0..<3 { analysis.add(Self.failed("/old/gone\(index).jpg", .remoteMissing, "'/old/gone\(index).jpg' is not on ftp://h (550)", stage: "fetch", run: 4)) }
        analysis.add(StoredItem(record: ItemRecord(path: "/done.jpg", status: .completed)))
        #expect(analysis.failed == 9 && analysis.persistent == 5)

        let categories = analysis.groups(.category)
        #expect(categories.map(\.category) == [.unsupportedType, .remoteMissing, .tooLarge])
        #expect(categories.map(\.count) == [5, 3, 1] && categories[0].persistent == 5 && categories[1].persistent == 0)
        #expect(categories[0].examples == ["/2024/clips/c0.MTS", "/2024/clips/c1.MTS", "/2024/clips/c2.MTS"])
        #expect(categories[1].firstRun == 4 && categories[1].stage == "fetch")

        let extensions = analysis.groups(.extension)
        #expect(extensions.map(\.key) == ["mts"], "a group of one item (the .mkv) is left to its category's group; a file missing says nothing of .jpg files")
        #expect(extensions[0].suggestion.contains("add `**/*.mts` to the source's `exclude:`"))

        let folders = analysis.groups(.folder)
        #expect(folders.map(\.key) == ["/2024/clips", "/old"] && folders[0].count == 5)
        #expect(folders[0].suggestion.contains("`2024/clips/**`"))

        let messages = analysis.groups(.message)
        #expect(messages.map(\.count) == [5, 3])
        #expect(messages[1].key == "'…' is not on ftp://h (550)")
    }

    @Test func eachKindKeepsABoundedNumberOfGroups() {
        var analysis = FailureAnalysis(groupLimit: 2)
        for index in 0..<6 { analysis.add(Self.failed("/f\(index)/a.x\(index)", .network, "reset \(index)")) }
        #expect(analysis.groups(.folder, minimumCount: 1).count == 2 && analysis.ungrouped[.folder] == 4)
        #expect(analysis.groups(.category).first?.count == 6)
    }

    @Test(arguments: [
        (FailureCategory.unsupportedType, FailureAdvice.Scope.fileExtension("mts"), "add `**/*.mts` to the source's `exclude:`"),
        (.tooLarge, .fileExtension("mkv"), "`max_size:`"),
        (.remoteMissing, .category, "`pipeline forget --missing`"),
        (.permission, .folder("/2024/raw"), "then `pipeline retry --all-failed`"),
        (.serverError, .category, "`pipeline retry --all-failed`"),
        (.network, .category, "raise `retry: { attempts: N }`"),
        (.corruptSource, .fileExtension("zip"), "copy them again at the source"),
        (.authentication, .category, "`pipeline auth google`"),
        (.quota, .category, "midnight Pacific"),
        (.diskFull, .category, "`disk_budget:`"),
        (.timeout, .category, "raise `timeout:`"),
        (.stageCrashed, .category, "stderr"),
        (.tls, .category, "`ca_file:`"),
        (.configuration, .category, "`pipeline validate FILE`"),
        (.other, .category, "`pipeline status`"),
    ])
    func everyCategoryHasAConcreteFix(category: FailureCategory, scope: FailureAdvice.Scope, words: String) {
        #expect(FailureAdvice.suggestion(category, scope).contains(words), "\(category): \(FailureAdvice.suggestion(category, scope))")
    }

    @Test func theTimeoutFixNamesTheStage() {
        #expect(FailureAdvice.suggestion(.timeout, .category, stage: "upload").contains("`timeout:` of stage 'upload'"))
    }

    @Test func theTextAndJSONNameEachGroupWithItsCountAndFix() throws {
        var analysis = FailureAnalysis()
        for index in 0..<2 { analysis.add(Self.failed("/v/c\(index).mts", .unsupportedType, "NOT_IMAGE")) }
        let text = FailureReport.text(analysis, limit: 10)
        #expect(text.contains("2 failed items, 0 persistent"))
        #expect(text.contains("unsupported type: 2 items"))
        #expect(text.contains(".mts (unsupported type): 2 items"))
        let json = try JSONValue.parse(FailureReport.json(analysis, limit: 10))
        #expect(json["failed"] == 2)
        let group = json["groups"]?["extension"]
        #expect(group == .array([[
            "category": "unsupported_type", "title": "unsupported type", "key": "mts", "count": 2, "persistent": 0,
            "examples": ["/v/c0.mts", "/v/c1.mts"], "stage": "upload", "first_run": 1,
            "suggestion": .string(FailureAdvice.suggestion(.unsupportedType, .fileExtension("mts"), stage: "upload")),
        ]]))
        #expect(FailureReport.text(FailureAnalysis(), limit: 10) == "no failed items")
    }
}
