import Foundation
import PipelineCore

/// `archive-inspect`: proves an archive is whole by reading every entry and decompressing every
/// byte with libarchive (nothing is extracted). A truncated or damaged archive goes back to fetch
/// once, then fails with libarchive's message; one that expands past `max_ratio` (a zip bomb) or
/// holds more than `max_entries` fails at once. Files that are not archives pass untouched.
struct ArchiveInspectStage: Stage {
    static let descriptor = StageDescriptor(
        name: "archive-inspect",
        summary: "reads every entry of zip/tar/7z/iso/rar… archives with libarchive to prove them whole; records entry count and size",
        parameters: [
            .init("include", "patterns of the files to inspect (default: the archive extensions libarchive reads)"),
            .init("max_entries", "fail an archive with more entries than this"),
            .init("max_ratio", "fail an archive that expands to more than this many times its size (zip bombs), such as 100"),
        ],
        factory: .item { setup in try ArchiveInspectStage(setup) }
    )

    static let defaultPatterns = [
        "**/*.{zip,jar,tar,tgz,tbz,tbz2,txz,tlz,tzst,7z,iso,rar,cab,cpio,xar,lha,lzh,ar,deb,rpm,warc}",
        "**/*.tar.{gz,bz2,xz,lz,lzma,zst,z,Z}",
    ]
    /// How many entry names the outputs keep.
    static let namesKept = 5

    let patterns: [GlobPattern]
    let maxEntries: Int?
    let maxRatio: Double?

    init(_ setup: StageSetup) throws {
        var texts = Self.defaultPatterns
        if let raw = setup.parameters["include"] {
            if case .array(let values) = raw { texts = values.compactMap(\.stringValue) } else if let one = raw.stringValue { texts = [one] }
        }
        patterns = try texts.map { text in
            guard let pattern = GlobPattern(text) else {
                throw setup.location.error("stage '\(setup.stageName)': '\(text)' in 'include' is not a valid pattern")
            }
            return pattern
        }
        maxEntries = try setup.wholeNumber("max_entries", in: 1...Int64.max)
        maxRatio = try setup.parameters["max_ratio"].map { raw in
            guard let text = raw.stringValue, let value = Double(text), value >= 1 else {
                throw setup.location.error("'max_ratio' must be a number of 1 or more, such as 100")
            }
            return value
        }
    }

    func run(_ context: StageContext) async throws -> StageResult {
        guard patterns.contains(where: { $0.matches(context.item.path) }) else { return .done(["archive": false]) }
        return try await Blocking.run { try inspect(context) }
    }

    private func inspect(_ context: StageContext) throws -> StageResult {
        let file = try context.requireInputFile()
        let name = context.item.name
        let size = max(FileStream.size(of: file) ?? 0, 1)
        var entries = 0
        var expanded: Int64 = 0
        var names: [String] = []
        var entry = ""
        var bomb = false
        do {
            let reader = try ArchiveReader(path: file)
            while let next = try reader.nextEntry() {
                entry = next
                entries += 1
                if names.count < Self.namesKept { names.append(next) }
                if let maxEntries, entries > maxEntries {
                    throw StageFailure.permanent("'\(name)' holds more than max_entries (\(maxEntries)) entries")
                }
                try reader.readEntryData { count in
                    expanded += Int64(count)
                    if let maxRatio, Double(expanded) > Double(size) * maxRatio { bomb = true }
                    return !bomb && !context.stop.isStopped
                }
                try context.stop.check()
                if bomb {
                    throw StageFailure.permanent("""
                        '\(name)' expands past max_ratio (\(maxRatio ?? 0)× its \(size) bytes) at entry '\(entry)': \
                        refused as a likely zip bomb
                        """)
                }
                context.progress(bytes: expanded, total: nil)
            }
            if GzipStreamCheck.applies(to: file), let damage = GzipStreamCheck.damage(in: file, stop: context.stop) {
                throw StageFailure(.badInput, "'\(name)' is damaged: \(damage) (all \(entries) entries read before the check at its end)",
                                   backtrackLimit: 1, category: .corruptSource)
            }
            try context.stop.check()
            return .done([
                "archive": true, "format": .string(reader.formatName), "entries": .number(Double(entries)),
                "uncompressed_bytes": .number(Double(expanded)), "first_names": .array(names.map(JSONValue.string)),
            ])
        } catch let failure as ArchiveReader.Failure {
            let place = entries == 0 ? "" : " at entry '\(entry)'"
            throw StageFailure(.badInput, "'\(name)' is damaged\(place): \(failure.message)", backtrackLimit: 1, category: .corruptSource)
        }
    }
}
