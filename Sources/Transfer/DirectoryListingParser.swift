/// Parses what FTP servers answer to MLSD and to LIST (Unix `ls -l` style and DOS/IIS style).
///
/// MLSD is machine-readable and gives exact UTC times; LIST is for people and varies between
/// servers, so its parser is lenient about columns but strict about what it calls a file.
public enum DirectoryListingParser {
    /// One MLSD line: `fact=value;fact=value; name` (RFC 3659). The name follows the first space.
    public static func mlsdEntry(_ line: String) -> RemoteEntry? {
        guard let space = line.firstIndex(of: " ") else { return nil }
        let name = String(line[line.index(after: space)...])
        guard !name.isEmpty else { return nil }
        var facts: [String: String] = [:]
        for fact in line[..<space].split(separator: ";") {
            let pair = fact.split(separator: "=", maxSplits: 1)
            if pair.count == 2 { facts[pair[0].lowercased()] = String(pair[1]) }
        }
        let type = facts["type"]?.lowercased() ?? ""
        let kind: RemoteEntry.Kind
        switch type {
        case "file": kind = .file
        case "dir": kind = .directory
        case "cdir", "pdir": return nil
        case _ where type.contains("link"): kind = .link
        default: kind = .other
        }
        return RemoteEntry(name: name, kind: kind, size: facts["size"].flatMap { Int64($0) },
                           modified: facts["modify"].flatMap(mlsdTime), unique: facts["unique"])
    }

    /// `YYYYMMDDHHMMSS[.sss]` (UTC) as ISO 8601 to the second.
    static func mlsdTime(_ text: String) -> String? {
        let digits = Array(text.prefix(14))
        guard digits.count == 14, digits.allSatisfy(\.isNumber) else { return nil }
        let part = { (from: Int, length: Int) in String(digits[from..<(from + length)]) }
        return "\(part(0, 4))-\(part(4, 2))-\(part(6, 2))T\(part(8, 2)):\(part(10, 2)):\(part(12, 2))Z"
    }

    /// One LIST line in Unix or DOS style; nil for totals, blank lines and `.`/`..`.
    /// LIST gives no exact time (no seconds, no year for recent files): callers ask MDTM.
    public static func listEntry(_ line: String) -> RemoteEntry? {
        if let entry = unixEntry(line) { return entry }
        return dosEntry(line)
    }

    /// `drwxr-xr-x 2 owner group 4096 Jan 02  2020 name` (group may be missing on some servers).
    static func unixEntry(_ line: String) -> RemoteEntry? {
        guard let first = line.first, "-dlbcps".contains(first) else { return nil }
        let fields = whitespaceFields(line, count: 9)
        // With a group column: perms links owner group size month day time/year name (9 fields).
        for sizeIndex in [4, 3] {
            guard fields.count > sizeIndex + 3, let size = Int64(fields[sizeIndex].text),
                isMonth(fields[sizeIndex + 1].text)
            else { continue }
            // The name begins one space after the time or year column, spaces and all.
            guard fields.count > sizeIndex + 4, var name = Self.name(in: line, after: fields[sizeIndex + 3].text) else { return nil }
            let kind: RemoteEntry.Kind
            switch first {
            case "-": kind = .file
            case "d": kind = .directory
            case "l":
                kind = .link
                if let arrow = name.range(of: " -> ") { name = String(name[..<arrow.lowerBound]) }
            default: kind = .other
            }
            if name == "." || name == ".." { return nil }
            return RemoteEntry(name: name, kind: kind, size: size)
        }
        return nil
    }

    /// `01-02-20  03:04PM       <DIR>          name` or `01-02-20  03:04PM   1234 name`.
    static func dosEntry(_ line: String) -> RemoteEntry? {
        let fields = whitespaceFields(line, count: 4)
        guard fields.count == 4, fields[0].text.filter({ $0 == "-" || $0 == "/" }).count == 2,
            fields[1].text.hasSuffix("AM") || fields[1].text.hasSuffix("PM") || fields[1].text.contains(":")
        else { return nil }
        // DOS columns are padded, so the name starts at the next non-blank (leading blanks are lost).
        let name = String(line[fields[3].start...])
        guard name != ".", name != ".." else { return nil }
        if fields[2].text == "<DIR>" { return RemoteEntry(name: name, kind: .directory) }
        guard let size = Int64(fields[2].text) else { return nil }
        return RemoteEntry(name: name, kind: .file, size: size)
    }

    /// What follows the single separating space after `column`, or nil when nothing does.
    private static func name(in line: String, after column: Substring) -> String? {
        guard column.endIndex < line.endIndex else { return nil }
        let name = String(line[line.index(after: column.endIndex)...])
        return name.isEmpty ? nil : name
    }

    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static func isMonth(_ text: Substring) -> Bool { months.contains(text.lowercased()) }

    /// The first `count` whitespace-separated fields with where each starts; the last field's
    /// start is where a name with spaces begins.
    private static func whitespaceFields(_ line: String, count: Int) -> [(text: Substring, start: String.Index)] {
        var fields: [(text: Substring, start: String.Index)] = []
        var index = line.startIndex
        while index < line.endIndex, fields.count < count {
            while index < line.endIndex, line[index] == " " || line[index] == "\t" { index = line.index(after: index) }
            guard index < line.endIndex else { break }
            let start = index
            while index < line.endIndex, line[index] != " ", line[index] != "\t" { index = line.index(after: index) }
            fields.append((line[start..<index], start))
        }
        return fields
    }
}
