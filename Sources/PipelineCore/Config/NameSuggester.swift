/// Finds the valid name nearest to a misspelt one, for "did you mean …?" in error messages.
public enum NameSuggester {
    /// The closest candidate by edit distance, if it is close enough to be a plausible typo.
    public static func nearest(to word: String, in candidates: some Sequence<String>) -> String? {
        let limit = max(2, word.count / 3)
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= limit else { return nil }
        return best.0
    }

    /// "unknown X 'word' (did you mean 'y'?)" or, with no near candidate, the list of valid ones.
    public static func unknown(_ what: String, _ word: String, valid: [String]) -> String {
        if let suggestion = nearest(to: word, in: valid) {
            return "unknown \(what) '\(word)' (did you mean '\(suggestion)'?)"
        }
        return "unknown \(what) '\(word)' (valid: \(valid.sorted().joined(separator: ", ")))"
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
