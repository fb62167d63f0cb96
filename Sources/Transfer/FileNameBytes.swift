/// The text form of a file name's bytes, for names that are not UTF-8 (`caf\xE9.jpg` from a
/// Latin-1 disk): item paths are text in the state, yet the file must arrive under its own bytes.
///
/// Valid UTF-8 is kept as it is, so ordinary names (and every path a state already holds) are
/// unchanged. A byte that is not part of valid UTF-8 (always 0x80–0xFF) becomes the private-use
/// character U+EF00 + byte (U+EF80–U+EFFF, as MirBSD's OPTU-8 does); a name that really holds one of
/// those characters has its UTF-8 bytes escaped the same way, so decoding is exact for every name.
public enum FileNameBytes {
    static let escapes: ClosedRange<UInt32> = 0xEF80...0xEFFF

    /// The text for a name's (or path's) bytes.
    public static func text(_ bytes: some Collection<UInt8>) -> String {
        var result = String.UnicodeScalarView()
        var input = Array(bytes)[...]
        while !input.isEmpty {
            var decoder = UTF8()
            var slice = input.makeIterator()
            switch decoder.decode(&slice) {
            case .scalarValue(let scalar):
                let length = String(scalar).utf8.count
                if escapes.contains(scalar.value) {
                    for byte in input.prefix(length) { result.append(escape(byte)) }
                } else {
                    result.append(scalar)
                }
                input = input.dropFirst(length)
            case .error, .emptyInput:
                result.append(escape(input.first!))
                input = input.dropFirst()
            }
        }
        return String(result)
    }

    /// The bytes a text made by `text(_:)` stands for (for any other text: its UTF-8).
    public static func bytes(_ text: some StringProtocol) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if escapes.contains(scalar.value) {
                result.append(UInt8(scalar.value - 0xEF00))
            } else {
                result.append(contentsOf: String(scalar).utf8)
            }
        }
        return result
    }

    /// How a message shows the text: each byte that is not UTF-8 as `\xNN` (`caf\xE9.jpg`), so
    /// the reader sees which byte it was; everything else as it is.
    public static func shown(_ text: some StringProtocol) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if escapes.contains(scalar.value) {
                let hex = String(scalar.value - 0xEF00, radix: 16, uppercase: true)
                shown += "\\x" + (hex.count == 1 ? "0" : "") + hex
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// Whether the text stands for bytes that differ from its UTF-8.
    public static func hasEscapes(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains { escapes.contains($0.value) }
    }

    static func escape(_ byte: UInt8) -> Unicode.Scalar { Unicode.Scalar(0xEF00 + UInt32(byte))! }
}
