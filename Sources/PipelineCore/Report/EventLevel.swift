/// How much a run event matters to a person watching: what `-q` keeps and what only `-v` shows.
public enum EventLevel: Sendable, Equatable {
    /// Errors and the end of the run: shown even with `-q`.
    case essential
    /// What happened to the run and to each item: the start, the listing, an item finished, failed or left.
    case outcome
    /// A stage's transitions, retries, log lines and progress: shown on a terminal only with `-v`.
    case detail
}

extension RunEvent {
    /// The level of this event.
    public var level: EventLevel {
        switch self {
        case .warning, .itemFailed, .givenUp, .failureCategories, .runFinished: return .essential
        case .runStarted, .notice, .listed, .itemCompleted, .itemSkipped, .itemLeft, .stopping: return .outcome
        case .stageStarted, .stageDone, .stageRetrying, .stageLog, .progress, .wentBack: return .detail
        }
    }
}
