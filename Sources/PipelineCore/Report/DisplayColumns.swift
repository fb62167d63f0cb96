/// How many terminal columns text takes, and how to make it fit: a line wider than the terminal
/// wraps, and a redraw that moves the cursor up by the lines it wrote would then leave copies behind.
///
/// Counting errs on the wide side: every character from U+1100 up (CJK, emoji, symbols) counts as
/// two columns, except the "…" this display uses itself; combining accents count as none. A line is
/// then at worst cut a little early, never wrapped.
public enum DisplayColumns {
    public static let ellipsis: Character = "…"

    /// The columns one character takes.
    public static func width(of character: Character) -> Int {
        if character == ellipsis { return 1 }
        var columns = 0
        for scalar in character.unicodeScalars {
            switch scalar.value {
            case 0x300...0x36F, 0x200B...0x200F, 0xFE00...0xFE0F: continue
            case 0..<0x20, 0x7F..<0xA0: columns += 4 // shown escaped, as \xNN
            case 0x1100...: columns = max(columns, 2)
            default: columns = max(columns, 1)
            }
        }
        return columns
    }

    public static func width(of text: some StringProtocol) -> Int {
        text.reduce(0) { $0 + width(of: $1) }
    }

    /// `text` with control characters (C0 and C1, which a terminal would obey) shown as `\xNN`.
    public static func printable(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars {
            if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) {
                shown += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// The longest start of `text` that fits in `columns`.
    public static func prefix(of text: String, fitting columns: Int) -> String {
        var used = 0
        var result = ""
        for character in text {
            used += width(of: character)
            if used > columns { break }
            result.append(character)
        }
        return result
    }

    /// The longest end of `text` that fits in `columns`.
    public static func suffix(of text: String, fitting columns: Int) -> String {
        var used = 0
        var result: [Character] = []
        for character in text.reversed() {
            used += width(of: character)
            if used > columns { break }
            result.append(character)
        }
        return String(result.reversed())
    }

    /// `text` cut at the end to `columns`, with "…" where it was cut.
    public static func cut(_ text: String, to columns: Int) -> String {
        guard width(of: text) > columns else { return text }
        guard columns > 0 else { return "" }
        return prefix(of: text, fitting: columns - 1) + String(ellipsis)
    }

    /// A path shortened in the middle to `columns`, keeping its file name: "/photos/…/IMG_0001.jpg".
    /// A file name too long by itself keeps its start and its end (the extension).
    public static func shortenedPath(_ path: String, to columns: Int) -> String {
        guard width(of: path) > columns else { return path }
        guard columns > 1 else { return prefix(of: path, fitting: columns) }
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[$0...]) } ?? path
        if slash != nil, width(of: name) < columns {
            let folders = String(path[..<slash!])
            return prefix(of: folders, fitting: columns - 1 - width(of: name)) + String(ellipsis) + name
        }
        let end = suffix(of: name, fitting: (columns - 1) * 2 / 3)
        return prefix(of: name, fitting: columns - 1 - width(of: end)) + String(ellipsis) + end
    }
}

private extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
