/// How `pipeline run` writes what happens.
public enum LogFormat: String, Sendable, CaseIterable {
    /// A live progress display on a terminal, plain lines otherwise.
    case auto
    /// One plain line per event.
    case plain
    /// One JSON object per line, for machines.
    case json
}
