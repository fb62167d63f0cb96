import Foundation

/// `pipeline failures`: the state's failed items grouped (`FailureAnalysis`), as text or JSON
/// (docs/json-output.md, "failures --json").
public enum FailureReport {
    /// Failed items read at once: the state is read page by page, never whole.
    public static let pageSize = 1000

    /// Reads every failed item of `store`, page by page; those `selection` no longer takes (the
    /// source's `include`/`exclude` changed since they failed) are counted apart.
    public static func analyse(_ store: any StateStore, selection: SourceSelection = .everything) throws -> FailureAnalysis {
        var analysis = FailureAnalysis()
        try forEachFailedItem(in: store) { item in
            if selection.selects(path: item.record.path) { analysis.add(item) } else { analysis.addDeselected(item) }
        }
        return analysis
    }

    /// Calls `body` with every failed item of `store`, read `pageSize` at a time.
    private static func forEachFailedItem(in store: any StateStore, _ body: (StoredItem) -> Void) throws {
        var cursor: ItemPage.Cursor?
        repeat {
            let page = try store.failedItemPage(after: cursor, limit: pageSize)
            page.items.forEach(body)
            cursor = page.next
        } while cursor != nil
    }

    /// The groups' headings, in the order shown.
    static let headings: [(kind: FailureGroup.Kind, title: String)] = [
        (.category, "By category"), (.folder, "By folder"), (.extension, "By extension"), (.message, "By repeated message"),
    ]

    /// Up to `limit` groups of each kind, each with its count, persistent count, examples and fix.
    public static func text(_ analysis: FailureAnalysis, limit: Int) -> String {
        let deselected = analysis.deselected == 0 ? nil
            : "\(analysis.deselected) failed item\(analysis.deselected == 1 ? " is" : "s are") no longer selected by the source's `include:`/`exclude:`: "
            + "runs leave \(analysis.deselected == 1 ? "it" : "them") alone (`pipeline forget PATH` drops one from the state)"
        guard analysis.failed > 0 else { return (["no failed items"] + (deselected.map { [$0] } ?? [])).joined(separator: "\n") }
        var lines = ["\(analysis.failed) failed item\(analysis.failed == 1 ? "" : "s"), \(analysis.persistent) persistent "
                     + "(failed in every run that tried them, at least twice)"]
        for (kind, title) in headings {
            let groups = analysis.groups(kind, limit: limit)
            guard !groups.isEmpty else { continue }
            lines.append("")
            lines.append(title + ":")
            for group in groups {
                let name = switch kind {
                case .category: group.category.title
                case .folder: "\(PlainReporter.displayPath(group.key ?? "/")) (\(group.category.title))"
                case .extension: "\((group.key ?? "").isEmpty ? "no extension" : "." + (group.key ?? "")) (\(group.category.title))"
                case .message: "\"\(PlainReporter.displayPath(group.key ?? ""))\" (\(group.category.title))"
                }
                let since = group.category == .remoteMissing ? group.firstRun.map { ", since run \($0)" } ?? "" : ""
                lines.append("  \(name): \(group.count) item\(group.count == 1 ? "" : "s")\(group.persistent > 0 ? ", \(group.persistent) persistent" : "")\(since)"
                             + (group.stage.map { ", in \($0)" } ?? ""))
                lines.append("    e.g. " + group.examples.map(PlainReporter.displayPath).joined(separator: ", "))
                lines.append("    fix: " + group.suggestion)
            }
        }
        if let deselected { lines += ["", deselected] }
        return lines.joined(separator: "\n")
    }

    /// The same as one JSON document: `failed`, `persistent`, and `groups` by kind.
    public static func json(_ analysis: FailureAnalysis, limit: Int) -> String {
        var groups: [String: JSONValue] = [:]
        for (kind, _) in headings {
            groups[kind.rawValue] = .array(analysis.groups(kind, limit: limit).map { group in
                var fields: [String: JSONValue] = [
                    "category": .string(group.category.rawValue),
                    "title": .string(group.category.title),
                    "count": .number(Double(group.count)),
                    "persistent": .number(Double(group.persistent)),
                    "examples": .array(group.examples.map { .string($0) }),
                    "suggestion": .string(group.suggestion),
                ]
                if let key = group.key { fields["key"] = .string(key) }
                if let stage = group.stage { fields["stage"] = .string(stage) }
                if let run = group.firstRun { fields["first_run"] = .number(Double(run)) }
                return .object(fields)
            })
        }
        let document: JSONValue = [
            "failed": .number(Double(analysis.failed)),
            "persistent": .number(Double(analysis.persistent)),
            "deselected": .number(Double(analysis.deselected)),
            "groups": .object(groups),
        ]
        return document.jsonText()
    }

    /// The paths of every failed item whose last failure is of `category`, read page by page
    /// (`pipeline forget --missing`).
    public static func paths(of category: FailureCategory, in store: any StateStore) throws -> [String] {
        var paths: [String] = []
        try forEachFailedItem(in: store) { item in
            if FailureAnalysis.category(of: item) == category { paths.append(item.record.path) }
        }
        return paths
    }
}
