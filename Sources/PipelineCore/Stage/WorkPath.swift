/// The place inside a directory that belongs to an item, derived from its remote path so that no
/// name can point outside: `..` and `.` segments, control characters and `%` are percent-encoded,
/// empty segments dropped, over-long names shortened with a hash.
///
/// Encoding rather than dropping keeps distinct remote names distinct on disk.
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
    /// Where an unfinished copy lives until it is complete and renamed to `absolute`.
    public var partial: String { absolute + ".partial" }
    public var directory: String { (absolute as NSString).deletingLastPathComponent }

    static func safeSegment(_ segment: Substring) -> String {
        if segment == "." { return "%2E" }
        if segment == ".." { return "%2E%2E" }
        var encoded = ""
        for scalar in segment.unicodeScalars {
            if scalar.isASCIIControl || scalar == "%" {  // '%' itself, so decoding is unambiguous
                encoded += String(format: "%%%02X", scalar.value)
            } else {
                encoded.unicodeScalars.append(scalar)
            }
        }
        // File names are limited to 255 bytes; keep room for the ".partial" suffix.
        if encoded.utf8.count > 200 {
            var shortened = ""
            for character in encoded {
                if shortened.utf8.count + character.utf8.count > 180 { break }
                shortened.append(character)
            }
            encoded = shortened + "~" + String(UInt64(bitPattern: Int64(truncatingIfNeeded: FNV1a.hash(encoded))), radix: 16)
        }
        return encoded
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
