/// Parses what FTP servers answer to MLSD and to LIST (Unix `ls -l` style and DOS/IIS style).
///
/// MLSD is machine-readable and gives exact UTC times; LIST is for people and varies between
/// servers, so its parser accepts the date forms and columns servers are known to print (see
/// `ListingDate`) and says so when a line is none of them: a line passed over could be a file
/// silently missing from the backup.
public enum DirectoryListingParser {
    /// One MLSD line: `fact=value;fact=value; name` (RFC 3659). The name follows the first space.
    public static func mlsdLine(_ line: String) -> ListingLine {
        if line.allSatisfy(\.isWhitespace) { return .ignored }
        guard let space = line.firstIndex(of: " ") else { return .unrecognized }
        let name = String(line[line.index(after: space)...])
        guard !name.isEmpty else { return .unrecognized }
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
        case "cdir", "pdir": return .ignored
        case _ where type.contains("link"): kind = .link
        default: kind = .other
        }
        if name == "." || name == ".." { return .ignored }
        let size = facts["size"].flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
        return .entry(RemoteEntry(name: name, kind: kind, size: size, modified: facts["modify"].flatMap(mlsdTime), unique: facts["unique"]))
    }

    /// The entry of an MLSD line, nil for anything else.
    public static func mlsdEntry(_ line: String) -> RemoteEntry? {
        if case .entry(let entry) = mlsdLine(line) { return entry }
        return nil
    }

    /// `YYYYMMDDHHMMSS[.sss]` (UTC) as ISO 8601 to the second.
    static func mlsdTime(_ text: String) -> String? {
        let digits = Array(text.prefix(14))
        guard digits.count == 14, digits.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        let part = { (from: Int, length: Int) in String(digits[from..<(from + length)]) }
        return "\(part(0, 4))-\(part(4, 2))-\(part(6, 2))T\(part(8, 2)):\(part(10, 2)):\(part(12, 2))Z"
    }

    /// One LIST line in Unix or DOS style.
    /// LIST gives no exact time (no seconds, no year for recent files): callers ask MDTM.
    public static func listLine(_ line: String) -> ListingLine {
        if isNoise(line) { return .ignored }
        if let entry = unixEntry(line) ?? dosEntry(line) {
            return entry.name == "." || entry.name == ".." ? .ignored : .entry(entry)
        }
        return .unrecognized
    }

    /// The entry of a LIST line, nil for anything else.
    public static func listEntry(_ line: String) -> RemoteEntry? {
        if case .entry(let entry) = listLine(line) { return entry }
        return nil
    }

    /// Blank lines and `ls`'s `total 12` (`insgesamt 12`, `totale 12`, `total 1.5M` in other locales).
    static func isNoise(_ line: String) -> Bool {
        let fields = whitespaceFields(line, count: 3)
        if fields.isEmpty { return true }
        return fields.count == 2 && fields[0].text.allSatisfy(\.isLetter) && fields[1].text.first?.isASCIIDigitCharacter == true
    }

    /// `drwxr-xr-x 2 owner group 4096 Jan 02  2020 name`, with any date form `ListingDate`
    /// knows; the group (or the link count) may be missing on some servers, and devices show
    /// `major, minor` where files show their size.
    static func unixEntry(_ line: String) -> RemoteEntry? {
        let fields = whitespaceFields(line, count: 12)
        guard let mode = fields.first?.text, (10...11).contains(mode.count), let type = mode.first, "-dlbcpsD".contains(type),
            mode.dropFirst().prefix(9).allSatisfy({ "rwxsStTlL-".contains($0) })
        else { return nil }
        let kind: RemoteEntry.Kind
        switch type {
        case "-": kind = .file
        case "d": kind = .directory
        case "l": kind = .link
        default: kind = .other
        }
        // The date follows the size; the size's column depends on which columns the server prints.
        // (A line of fewer than four fields has no date: the range is empty, never reversed.)
        for dateIndex in 3..<max(3, min(fields.count, 8)) {
            guard let columns = ListingDate.columns(in: fields.map(\.text), at: dateIndex) else { continue }
            let size = Self.size(fields[dateIndex - 1].text)
            guard size != nil || kind == .other else { continue }
            // The name begins one space after the date, spaces and all.
            guard var name = Self.name(in: line, after: fields[dateIndex + columns - 1].text) else { return nil }
            if kind == .link, let arrow = name.range(of: " -> ") { name = String(name[..<arrow.lowerBound]) }
            // A device's `major, minor` is not a size.
            return RemoteEntry(name: name, kind: kind, size: kind == .other ? nil : size)
        }
        return nil
    }

    /// `01-02-20  03:04PM       <DIR>          name` or `2020-01-02  15:04   1,234 name`.
    static func dosEntry(_ line: String) -> RemoteEntry? {
        let fields = whitespaceFields(line, count: 4)
        guard fields.count == 4, isDOSDate(fields[0].text), isDOSTime(fields[1].text) else { return nil }
        // DOS columns are padded, so the name starts at the next non-blank (leading blanks are lost).
        let name = String(line[fields[3].start...])
        if fields[2].text.uppercased() == "<DIR>" { return RemoteEntry(name: name, kind: .directory) }
        guard let size = size(Substring(fields[2].text.filter { $0 != "," })) else { return nil }
        return RemoteEntry(name: name, kind: .file, size: size)
    }

    /// `MM-DD-YY`, `MM-DD-YYYY`, `YYYY-MM-DD`, with `-` or `/`.
    private static func isDOSDate(_ text: Substring) -> Bool {
        let parts = text.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == "/" }
        return parts.count == 3 && parts.allSatisfy { !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isASCIIDigitCharacter) }
    }

    /// `03:04PM`, `03:04 PM` is not used by IIS; `15:04` is.
    private static func isDOSTime(_ text: Substring) -> Bool {
        let upper = text.uppercased()
        let clock = upper.hasSuffix("AM") || upper.hasSuffix("PM") ? Substring(upper.dropLast(2)) : Substring(upper)
        return ListingDate.isTime(clock)
    }

    /// A size column: digits only, within Int64.
    private static func size(_ text: Substring) -> Int64? {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigitCharacter) else { return nil }
        return Int64(text)
    }

    /// What follows the single separating space after `column`, or nil when nothing does.
    private static func name(in line: String, after column: Substring) -> String? {
        guard column.endIndex < line.endIndex else { return nil }
        let name = String(line[line.index(after: column.endIndex)...])
        return name.isEmpty ? nil : name
    }

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
