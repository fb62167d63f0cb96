import Foundation

/// `pipeline status`: the summary in the seed's layout, or everything as JSON.
public enum StatusReport {
    public static func text(_ store: any StateStore, maxFailures: Int) throws -> String {
        try SummaryText.render(store: store, maxFailures: maxFailures)
    }

    /// Counts, and every item with its status, stage, failures, errors and stage outputs
    /// (media item ids, digests, destinations).
    public static func json(_ store: any StateStore, maxFailures: Int) throws -> String {
        let summary = try store.summary(maxFailures: maxFailures)
        var items: [JSONValue] = []
        for item in try store.allItems() {
            var fields: [String: JSONValue] = [
                "path": .string(item.path),
                "status": .string(item.hasGivenUp(maxFailures: maxFailures) ? "given_up" : item.status.rawValue),
                "failures": .number(Double(item.failures)),
            ]
            if let size = item.size { fields["size"] = .number(Double(size)) }
            if let modified = item.modified { fields["modified"] = .string(modified) }
            if let stage = item.stage { fields["stage"] = .string(stage) }
            if let error = item.lastError { fields["last_error"] = .string(error) }
            if item.status == .failed, let category = item.lastCategory { fields["last_category"] = .string(category.rawValue) }
            if let reason = item.skipReason { fields["skip_reason"] = .string(reason) }
            if let completedAt = item.completedAt { fields["completed_at"] = .string(SeedStateFile.timestamp(completedAt) + "Z") }
            let stages = try store.stageRecords(for: item.path)
            if !stages.isEmpty {
                fields["stages"] = .object(stages.mapValues { record in
                    var stage: [String: JSONValue] = ["status": .string(record.status.rawValue), "outputs": .object(record.outputs)]
                    if let error = record.error { stage["error"] = .string(error) }
                    return .object(stage)
                })
            }
            items.append(.object(fields))
        }
        let document: JSONValue = [
            "summary": JSONReporter.encode(summary),
            "max_failures": .number(Double(maxFailures)),
            "items": .array(items),
        ]
        return document.jsonText()
    }
}
