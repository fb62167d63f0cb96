/// Text made safe to place in HTML, in element content and in quoted attribute values alike: what
/// `HistoryPage` does to every string that comes from the state (a pipeline name, a runner, a path).
enum HTMLText {
    /// `&`, `<`, `>`, `"` and `'` as character references; everything else as it is.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
