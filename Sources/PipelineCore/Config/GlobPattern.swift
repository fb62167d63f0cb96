import Foundation

/// An `include:`/`exclude:` pattern matched against an item's path.
///
/// `*` and `?` stay within one path segment, `**/` spans any number of folders (also none),
/// `[abc]` and `{jpg,jpeg}` work as in shells. A pattern without `/` matches the file name at any
/// depth, as in `.gitignore`. Matching ignores case: media libraries mix `.jpg` and `.JPG`.
public struct GlobPattern: Sendable, CustomStringConvertible {
    public let pattern: String
    private let regex: NSRegularExpression

    public init?(_ pattern: String) {
        self.pattern = pattern
        var body = pattern.hasPrefix("/") ? String(pattern.dropFirst()) : pattern
        if !body.contains("/") { body = "**/" + body }
        guard let expression = Self.regularExpression(for: body),
            let regex = try? NSRegularExpression(pattern: "^" + expression + "$", options: [.caseInsensitive])
        else { return nil }
        self.regex = regex
    }

    public var description: String { pattern }

    /// Whether `path` (with or without a leading `/`) matches.
    public func matches(_ path: String) -> Bool {
        let relative = path.hasPrefix("/") ? String(path.dropFirst()) : path
        let range = NSRange(relative.startIndex..., in: relative)
        return regex.firstMatch(in: relative, range: range) != nil
    }

    private static func regularExpression(for glob: String) -> String? {
        var output = ""
        var characters = Array(glob)[...]
        var braceDepth = 0
        while let character = characters.popFirst() {
            switch character {
            case "*":
                if characters.first == "*" {
                    characters.removeFirst()
                    if characters.first == "/" {
                        characters.removeFirst()
                        output += "(?:.*/)?"
                    } else {
                        output += ".*"
                    }
                } else {
                    output += "[^/]*"
                }
            case "?": output += "[^/]"
            case "[":
                guard let close = characters.firstIndex(of: "]") else { return nil }
                var set = String(characters[characters.startIndex..<close])
                if set.hasPrefix("!") { set = "^" + set.dropFirst() }
                output += "[" + set.replacingOccurrences(of: "\\", with: "\\\\") + "]"
                characters = characters[characters.index(after: close)...]
            case "{":
                braceDepth += 1
                output += "(?:"
            case "}" where braceDepth > 0:
                braceDepth -= 1
                output += ")"
            case "," where braceDepth > 0: output += "|"
            default: output += NSRegularExpression.escapedPattern(for: String(character))
            }
        }
        return braceDepth == 0 ? output : nil
    }
}
