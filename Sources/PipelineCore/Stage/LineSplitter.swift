/// Cuts the output of a stage into lines, in time linear in its bytes, with a bound on a line's length.
///
/// A line longer than `limit` (a progress bar redrawn with `\r` and never a newline, a runaway
/// dump) is not kept in memory: it becomes one `overlong` piece with its length, and the splitter
/// carries on at the next newline. What to make of it is the caller's decision.
struct LineSplitter {
    /// The longest line a stage may print: 1 MiB (documented in `stages/README.md`).
    static let standardLimit = 1 << 20

    enum Piece: Equatable {
        case line(String)
        /// A line of `bytes` bytes, over the limit, dropped.
        case overlong(bytes: Int)
    }

    let limit: Int
    private var pending: [UInt8] = []
    /// Bytes of the current line dropped so far; 0 while the line is within the limit.
    private var dropped = 0

    init(limit: Int = Self.standardLimit) {
        self.limit = max(1, limit)
    }

    /// The lines completed by `bytes`.
    mutating func feed(_ bytes: some Collection<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        var start = bytes.startIndex
        while start != bytes.endIndex {
            let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
            let segment = bytes[start..<(newline ?? bytes.endIndex)]
            append(segment)
            if let newline {
                pieces.append(endLine())
                start = bytes.index(after: newline)
            } else {
                start = bytes.endIndex
            }
        }
        return pieces
    }

    /// The last line, when the output did not end with a newline.
    mutating func finish() -> [Piece] {
        pending.isEmpty && dropped == 0 ? [] : [endLine()]
    }

    private mutating func append(_ segment: some Collection<UInt8>) {
        if dropped > 0 {
            dropped += segment.count
        } else if pending.count + segment.count > limit {
            dropped = pending.count + segment.count
            pending = []
        } else {
            pending.append(contentsOf: segment)
        }
    }

    private mutating func endLine() -> Piece {
        defer { pending.removeAll(keepingCapacity: pending.count <= 4096); dropped = 0 }
        return dropped > 0 ? .overlong(bytes: dropped) : .line(String(decoding: pending, as: UTF8.self))
    }
}
