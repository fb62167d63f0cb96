import Foundation

/// The old script's `upload_state.json`, kept as an import and export format so its users keep
/// their progress (see the seed notes: version, completed, failed, in_progress, skipped, stats).
public enum SeedStateFile {
    /// What a seed state file holds that carries over.
    public struct Contents: Sendable {
        public var records: [ItemRecord]
        /// `stats.total_bytes`: the old script's count of bytes uploaded (its items have no sizes).
        public var totalBytes: Int64?
    }

    /// Reads a seed state file into item records.
    public static func records(fromFile path: String) throws -> [ItemRecord] {
        try read(path).records
    }

    public static func read(_ path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PipelineError(.missingInput, "cannot read '\(path)'")
        }
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw PipelineError(.badData, "'\(path)' is not a JSON object, so not an upload_state.json")
            }
            root = object
        } catch let error as PipelineError {
            throw error
        } catch {
            throw PipelineError(.badData, "'\(path)' is not valid JSON: \(error.localizedDescription)")
        }
        func refuse(_ why: String) -> PipelineError {
            PipelineError(.badData, "'\(path)' is not an upload_state.json: \(why); nothing was imported")
        }
        guard root["version"] is String else { throw refuse("it has no \"version\"") }
        let updated = (root["last_updated"] as? String).flatMap(parseTimestamp)
        var records: [String: ItemRecord] = [:]
        var order: [String] = []
        func add(_ record: ItemRecord) {
            if records[record.path] == nil { order.append(record.path) }
            records[record.path] = record
        }
        guard let skipped = (root["skipped"] ?? [String]()) as? [String] else { throw refuse("\"skipped\" is not a list of paths") }
        for path in skipped {
            var record = ItemRecord(path: path, status: .skipped)
            record.skipReason = "skipped by the old script (imported)"
            add(record)
        }
        guard let failed = (root["failed"] ?? [String: Any]()) as? [String: Any] else { throw refuse("\"failed\" is not an object") }
        for (path, value) in failed.sorted(by: { $0.key < $1.key }) {
            guard let entry = value as? [String: Any] else { throw refuse("the failure of '\(path)' is not an object") }
            var record = ItemRecord(path: path, status: .failed)
            record.failures = (entry["attempts"] as? NSNumber)?.intValue ?? 1
            record.lastError = entry["last_error"] as? String
            record.firstFailed = (entry["first_failed"] as? String).flatMap(parseTimestamp)
            record.lastFailed = (entry["last_failed"] as? String).flatMap(parseTimestamp)
            add(record)
        }
        guard let completed = (root["completed"] ?? [String]()) as? [String] else { throw refuse("\"completed\" is not a list of paths") }
        for path in completed {
            var record = ItemRecord(path: path, status: .completed)
            record.completedAt = updated
            add(record)
        }
        let totalBytes = ((root["stats"] as? [String: Any])?["total_bytes"] as? NSNumber)?.int64Value
        return Contents(records: order.compactMap { records[$0] }, totalBytes: totalBytes)
    }

    /// Imports into `store`: completed items are never processed again; failure counts and skips
    /// carry over. An item the store already has as completed stays completed.
    public static func importFile(_ path: String, into store: any StateStore) throws -> (imported: Int, kept: Int) {
        let contents = try read(path)
        var toWrite: [ItemRecord] = []
        var kept = 0
        for record in contents.records {
            if let existing = try store.item(record.path), existing.status == .completed {
                kept += 1
                continue
            }
            toWrite.append(record)
        }
        try store.importItems(toWrite)
        if let bytes = contents.totalBytes {
            let previous = Int64(try store.metadata(seedBytesKey) ?? "0") ?? 0
            try store.setMetadata(seedBytesKey, String(max(previous, bytes)))
        }
        return (toWrite.count, kept)
    }

    static let seedBytesKey = "seed_total_bytes"

    /// Writes the state in the seed's schema, keys in the seed's order.
    public static func export(_ store: any StateStore) throws -> String {
        let items = try store.allItems()
        let completed = items.filter { $0.status == .completed }
        let failed = items.filter { $0.status == .failed }
        let inProgress = items.filter { $0.status == .inProgress }.max { ($0.updatedAt ?? 0) < ($1.updatedAt ?? 0) }
        let completedBytes = completed.reduce(Int64(0)) { $0 + ($1.size ?? 0) }
        let seedBytes = Int64(try store.metadata(seedBytesKey) ?? "0") ?? 0

        var out = "{\n"
        out += "  \"version\": \"1.0\",\n"
        out += "  \"last_updated\": \(quote(timestamp(Date().timeIntervalSince1970))),\n"
        out += "  \"completed\": \(list(completed.map(\.path))),\n"
        if failed.isEmpty {
            out += "  \"failed\": {},\n"
        } else {
            out += "  \"failed\": {\n" + failed.map { item in
                "    \(quote(item.path)): {\n"
                    + "      \"attempts\": \(item.failures),\n"
                    + "      \"last_error\": \(quote(item.lastError ?? "")),\n"
                    + "      \"first_failed\": \(quote(timestamp(item.firstFailed ?? item.lastFailed ?? 0))),\n"
                    + "      \"last_failed\": \(quote(timestamp(item.lastFailed ?? 0)))\n"
                    + "    }"
            }.joined(separator: ",\n") + "\n  },\n"
        }
        if let inProgress {
            out += "  \"in_progress\": {\n    \"path\": \(quote(inProgress.path)),\n    \"size\": \(inProgress.size ?? 0),\n"
            out += "    \"started_at\": \(quote(timestamp(inProgress.updatedAt ?? 0)))\n  },\n"
        } else {
            out += "  \"in_progress\": null,\n"
        }
        out += "  \"skipped\": \(list(items.filter { $0.status == .skipped }.map(\.path))),\n"
        out += "  \"stats\": {\n    \"total_uploaded\": \(completed.count),\n    \"total_failed\": \(failed.count),\n"
        out += "    \"total_bytes\": \(max(completedBytes, seedBytes))\n  }\n}\n"
        return out
    }

    private static func quote(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    private static func list(_ paths: [String]) -> String {
        paths.isEmpty ? "[]" : "[\n" + paths.map { "    " + quote($0) }.joined(separator: ",\n") + "\n  ]"
    }

    /// Python's `datetime.utcnow().isoformat()`: no zone, microseconds.
    static func timestamp(_ seconds: Double) -> String {
        // A damaged state's time is shown as the epoch, never a trap.
        let seconds = seconds.isFinite && abs(seconds) < 1e11 ? seconds : 0
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&whole, &parts)
        let micros = Int(((seconds - seconds.rounded(.down)) * 1_000_000).rounded()) % 1_000_000
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%06d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, micros)
    }

    /// Reads the seed's timestamps (naive UTC, optional fraction); also accepts a zone suffix.
    static func parseTimestamp(_ text: String) -> Double? {
        var core = text
        if core.hasSuffix("Z") { core.removeLast() }
        if let plus = core.range(of: "+", options: .backwards), plus.lowerBound > core.index(core.startIndex, offsetBy: 10) {
            core = String(core[..<plus.lowerBound])
        }
        let pieces = core.split(separator: ".", maxSplits: 1)
        let numbers = pieces.first?.split(whereSeparator: { "-T:".contains($0) }).compactMap { Int32($0) } ?? []
        guard numbers.count == 6 else { return nil }
        var parts = tm()
        parts.tm_year = numbers[0] - 1900
        parts.tm_mon = numbers[1] - 1
        parts.tm_mday = numbers[2]
        parts.tm_hour = numbers[3]
        parts.tm_min = numbers[4]
        parts.tm_sec = numbers[5]
        let fraction = pieces.count > 1 ? Double("0." + pieces[1]) ?? 0 : 0
        return Double(timegm(&parts)) + fraction
    }
}
