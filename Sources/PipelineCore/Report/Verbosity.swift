/// How much `pipeline run` tells a person: `-q`, the default, or `-v`.
public enum Verbosity: Sendable, Equatable {
    /// Errors and the final summary only, no live display.
    case quiet
    /// One line per finished item, notices and warnings, with a live display on a terminal.
    case normal
    /// Every stage transition as well.
    case verbose

    /// Whether an event of `level` is written, on a terminal (`live`) or in a plain log.
    ///
    /// A plain log at the normal level keeps every line it always had: CI logs and scripts read it.
    public func shows(_ level: EventLevel, live: Bool) -> Bool {
        switch (self, level) {
        case (_, .essential): return true
        case (.quiet, _): return false
        case (.normal, .outcome), (.verbose, _): return true
        case (.normal, .detail): return !live
        }
    }
}
