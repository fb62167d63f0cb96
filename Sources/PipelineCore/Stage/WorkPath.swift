/// The place inside a directory that belongs to an item, derived from its remote path so that no
/// name can point outside: `..` and `.` segments, control characters and `%` are percent-encoded,
/// empty segments dropped, over-long names shortened with a hash.
///
/// Encoding rather than dropping keeps distinct remote names distinct on disk. Because every `%` of
/// a name is encoded, a `%` here is always followed by two hex digits: names with `%` followed by
/// anything else (the `%partial` suffix of unfinished copies, the `%~` of shortened names) are a
/// namespace no source name can reach.
public struct WorkPath: Sendable, Hashable {
    /// The path relative to the directory, without a leading slash.
    public let relative: String
    /// The directory it lives in.
    public let root: String

    public init(itemPath: String, root: String) {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        var segments = itemPath.split(separator: "/", omittingEmptySubsequences: true).map(Self.safeSegment)
        if segments.isEmpty { segments = ["%2F"] }
        self.relative = segments.joined(separator: "/")
    }

    public var absolute: String { root + "/" + relative }
    /// Where an unfinished copy lives until it is complete and renamed to `absolute`: beside it,
    /// under a name no item's `absolute` can have (a source's `v.mp4.partial` is not `v.mp4`'s copy).
    /// Copies begun under the old `NAME.partial` are not used (that name may be another item's
    /// finished copy), nor deleted: they start over.
    public var partial: String { absolute + Self.partialSuffix }
    public static let partialSuffix = "%partial"
    public var directory: String { (absolute as NSString).deletingLastPathComponent }

    static func safeSegment(_ segment: Substring) -> String {
        if segment == "." { return "%2E" }
        if segment == ".." { return "%2E%2E" }
        // Each unit is one scalar or one `%XX` escape, so shortening never cuts an escape apart.
        var units: [String] = []
        for scalar in segment.unicodeScalars {
            if scalar.isASCIIControl || scalar == "%" {  // '%' itself, so decoding is unambiguous
                units.append(String(format: "%%%02X", scalar.value))
            } else {
                units.append(String(scalar))
            }
        }
        let encoded = units.joined()
        // File names are limited to 255 bytes; keep room for the partial suffix. `%~` marks a
        // shortened name, which no encoded name can spell.
        guard encoded.utf8.count > 200 else { return encoded }
        var shortened = ""
        for unit in units {
            if shortened.utf8.count + unit.utf8.count > 180 { break }
            shortened += unit
        }
        return shortened + "%~" + String(FNV1a.hash(encoded), radix: 16)
    }
}

/// A small stable string hash (Swift's `hashValue` changes between runs).
enum FNV1a {
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x0000_0100_0000_01B3
        }
        return value
    }
}

import Foundation
