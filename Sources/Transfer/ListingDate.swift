/// Recognizes the date columns of a Unix-style LIST line, in the forms servers print them.
///
/// LIST dates are for people: `Nov 29 10:00` (recent) and `Nov 29  2019` (older) in English,
/// other locales' month names with or without a dot (`Mär`, `mai`, `déc.`), day first
/// (`29. Nov 10:00`), and `ls --time-style` forms (`2024-05-01 10:00`, `2024-05-01T10:00:00`,
/// `2024-05-01 10:00:00.000000000 +0000`, `05-01 10:00`, `2024-05-01`). Only where the date
/// ends matters (the name follows it): exact times come from MDTM.
enum ListingDate {
    /// How many fields starting at `index` form a date, or nil when they form none.
    /// The longest reading wins, so a time is never taken for the start of a name.
    static func columns(in fields: [Substring], at index: Int) -> Int? {
        func field(_ offset: Int) -> Substring? { index + offset < fields.count ? fields[index + offset] : nil }
        guard let first = field(0) else { return nil }
        // Month day time-or-year, and day month time-or-year.
        if let second = field(1), let third = field(2), isTimeOrYear(third),
            (isMonth(first) && isDay(second)) || (isDay(first) && isMonth(second)) {
            return 3
        }
        if isISODate(first) {
            guard let time = field(1), isTime(time) else { return 1 }
            if let zone = field(2), isZone(zone) { return 3 }
            return 2
        }
        if isISODateTime(first) { return 1 }
        // `--time-style=iso` for recent files: `05-01 10:00`.
        if isMonthDay(first), let time = field(1), isTime(time) { return 2 }
        return nil
    }

    /// Month abbreviations and short names as `ls` prints them in English, German, French,
    /// Spanish, Italian, Dutch, Portuguese, the Scandinavian languages and Polish (lowercased,
    /// without a trailing dot).
    static let monthNames = Set([
        // English
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "sept",
        // German
        "mär", "mrz", "mai", "okt", "dez",
        // French
        "janv", "févr", "fevr", "fév", "fev", "mars", "avr", "juin", "juil", "août", "aout", "déc", "janvier", "février",
        "avril", "juillet", "septembre", "octobre", "novembre", "décembre",
        // Spanish
        "ene", "abr", "ago", "dic", "set",
        // Italian
        "gen", "mag", "giu", "lug", "ott",
        // Dutch
        "mrt", "mei",
        // Portuguese
        "fev", "out", "dez",
        // Swedish, Danish, Norwegian
        "maj", "des",
        // Polish
        "sty", "lut", "kwi", "cze", "lip", "sie", "wrz", "paź", "lis", "gru",
    ])

    static func isMonth(_ text: Substring) -> Bool {
        let word = text.hasSuffix(".") ? text.dropLast() : text
        return !word.isEmpty && monthNames.contains(word.lowercased())
    }

    /// 1 to 31, with the dot some locales put after it (`29.`).
    static func isDay(_ text: Substring) -> Bool {
        let digits = text.hasSuffix(".") ? text.dropLast() : text
        guard (1...2).contains(digits.count), let day = Int(digits) else { return false }
        return (1...31).contains(day)
    }

    static func isTimeOrYear(_ text: Substring) -> Bool {
        isTime(text) || (text.count == 4 && number(text, in: 1900...9999) != nil)
    }

    /// `H:MM`, `HH:MM`, `HH:MM:SS` and `HH:MM:SS.fraction`.
    static func isTime(_ text: Substring) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), (1...2).contains(parts[0].count), number(parts[0], in: 0...23) != nil,
            parts[1].count == 2, number(parts[1], in: 0...59) != nil
        else { return false }
        guard parts.count == 3 else { return true }
        let seconds = parts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        return seconds[0].count == 2 && number(seconds[0], in: 0...60) != nil
            && (seconds.count == 1 || (!seconds[1].isEmpty && seconds[1].allSatisfy(\.isASCIIDigitCharacter)))
    }

    /// `YYYY-MM-DD`.
    static func isISODate(_ text: Substring) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0].count == 4 && number(parts[0], in: 1900...9999) != nil
            && isMonthDay(text.dropFirst(5))
    }

    /// `MM-DD`.
    static func isMonthDay(_ text: Substring) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0].count == 2 && number(parts[0], in: 1...12) != nil
            && parts[1].count == 2 && number(parts[1], in: 1...31) != nil
    }

    /// `YYYY-MM-DDTHH:MM[:SS[.fraction]]`, optionally ending in `Z` or an offset.
    static func isISODateTime(_ text: Substring) -> Bool {
        guard let t = text.firstIndex(of: "T"), isISODate(text[..<t]) else { return false }
        var time = text[text.index(after: t)...]
        if time.hasSuffix("Z") { time = time.dropLast() }
        if let sign = time.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            guard isZone(time[sign...]) || isZone(Substring(time[sign...].filter { $0 != ":" })) else { return false }
            time = time[..<sign]
        }
        return isTime(time)
    }

    /// `+0000`, `-0130`.
    static func isZone(_ text: Substring) -> Bool {
        guard let sign = text.first, sign == "+" || sign == "-" else { return false }
        let digits = text.dropFirst()
        return digits.count == 4 && number(digits, in: 0...1400) != nil
    }

    private static func number(_ text: Substring, in range: ClosedRange<Int>) -> Int? {
        guard !text.isEmpty, text.allSatisfy(\.isASCIIDigitCharacter), let value = Int(text), range.contains(value) else { return nil }
        return value
    }
}

extension Character {
    /// 0-9 only (`isNumber` also takes other scripts' digits and fractions).
    var isASCIIDigitCharacter: Bool { isASCII && isWholeNumber }
}
