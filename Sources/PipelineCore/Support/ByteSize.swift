/// A number of bytes written as in a pipeline file: `200MB`, `20GB`, `1.5GiB`, `512` (bytes).
///
/// Decimal units (KB, MB, GB, TB) are powers of 1000 and binary units (KiB, MiB, GiB, TiB) powers
/// of 1024, as storage vendors and Google's limits use them; anything else is refused.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    private static let units: [String: Double] = [
        "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
        "KIB": 1024, "MIB": 1_048_576, "GIB": 1_073_741_824, "TIB": 1_099_511_627_776,
    ]

    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let number = trimmed.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
        let unit = trimmed.dropFirst(number.count).trimmingCharacters(in: .whitespaces).uppercased()
        guard !number.isEmpty, let amount = Double(number), let multiplier = Self.units[unit.isEmpty ? "B" : unit]
        else { return nil }
        let value = amount * multiplier
        guard value.rounded() == value || multiplier > 1, value < 9.0e18 else { return nil }
        self.bytes = Int64(value.rounded())
    }

    /// Human form with decimal units, as the summaries show sizes: `240.50GB`.
    public var description: String { Self.format(bytes) }

    public static func format(_ bytes: Int64) -> String {
        let value = Double(bytes)
        for (unit, size) in [("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)] where value >= size {
            let hundredths = Int((value / size * 100).rounded())
            let fraction = hundredths % 100
            return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)\(unit)"
        }
        return "\(bytes)B"
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
}

import Foundation
