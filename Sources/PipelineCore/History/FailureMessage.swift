import Foundation

/// A server's message reduced to its shape, so that the same message about different files groups
/// as one ("550 '/a/IMG_1.jpg': No such file" and "550 '/b/IMG_22.jpg': No such file" are one).
public enum FailureMessage {
    /// `message` with quoted names as `'…'`, paths as `PATH`, hex digests as `HEX` and other
    /// numbers as `N`; status codes of three digits at a word's start are kept (`550`, `503`),
    /// since they tell the messages apart. Runs of spaces become one; at most `limit` characters.
    public static func normalized(_ message: String, limit: Int = 200) -> String {
        var out = ""
        var characters = Array(message)
        // The "(gave up after 3 attempts)" the retry rule appends says nothing of the cause.
        if let range = message.range(of: #" \(gave up after \d+ attempts?\)$"#, options: .regularExpression) {
            characters = Array(message[..<range.lowerBound])
        }
        var index = 0
        func isWordStart(_ at: Int) -> Bool { at == 0 || !(characters[at - 1].isLetter || characters[at - 1].isNumber || characters[at - 1] == "_") }
        while index < characters.count {
            let character = characters[index]
            if character == "'" || character == "\"" || character == "`" {
                // A quoted name: up to the same quote.
                if let close = characters[(index + 1)...].firstIndex(of: character) {
                    out += "\(character)…\(character)"
                    index = close + 1
                    continue
                }
            }
            if character == "/" && (index == 0 || " \t([=".contains(characters[index - 1])) && index + 1 < characters.count
                && !characters[index + 1].isWhitespace {
                // A path: up to the next space (or a closing bracket or colon at its end).
                var end = index
                while end < characters.count, !characters[end].isWhitespace { end += 1 }
                while end > index + 1, [":", ",", ")", "]", ";", "."].contains(characters[end - 1]) { end -= 1 }
                out += "PATH"
                index = end
                continue
            }
            if character.isHexDigit && isWordStart(index) {
                var end = index
                while end < characters.count, characters[end].isHexDigit { end += 1 }
                let word = characters[index..<end]
                let endsWord = end == characters.count || !(characters[end].isLetter || characters[end].isNumber || characters[end] == "_")
                if word.count >= 16, endsWord {
                    out += "HEX"
                    index = end
                    continue
                }
            }
            if character.isNumber && !isWordStart(index) && (characters[index - 1].isLetter || characters[index - 1].isNumber) {
                // Part of a word ("sha256", "utf8"): kept.
                out.append(character)
                index += 1
                continue
            }
            if character.isNumber {
                // A word that starts with a digit ("00ff", "3rd", "2.5") is a number.
                var word = index
                while word < characters.count, characters[word].isLetter || characters[word].isNumber { word += 1 }
                if word > index, characters[index..<word].contains(where: \.isLetter) {
                    out += "N"
                    index = word
                    continue
                }
                var end = index
                while end < characters.count, characters[end].isNumber || (characters[end] == "." && end + 1 < characters.count && characters[end + 1].isNumber) {
                    end += 1
                }
                let endsWord = end == characters.count || !(characters[end].isLetter || characters[end] == "_")
                if end - index == 3, isWordStart(index), endsWord, !characters[index..<end].contains("."), followsStatusWord(out) {
                    out += String(characters[index..<end])
                } else {
                    out += "N"
                }
                index = end
                continue
            }
            if character.isWhitespace {
                if !out.hasSuffix(" ") { out += " " }
            } else {
                out.append(character)
            }
            index += 1
        }
        let trimmed = out.trimmingCharacters(in: .whitespaces)
        return trimmed.count > limit ? String(trimmed.prefix(limit)) + "…" : trimmed
    }

    /// Whether a number after `text` is a status code: at the start, after "(", or after a word
    /// that introduces one ("HTTP 503", "status 500", "reply 550").
    static func followsStatusWord(_ text: String) -> Bool {
        var before = text.lowercased().trimmingCharacters(in: .whitespaces)
        if before.hasSuffix(":") { before.removeLast() }
        return before.isEmpty || before.hasSuffix("(") || ["http", "status", "code", "reply", "response", "ftp", "error", "answered"].contains { before.hasSuffix($0) }
    }
}
