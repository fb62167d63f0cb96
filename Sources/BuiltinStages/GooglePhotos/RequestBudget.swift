import Foundation
import PipelineCore

/// The project's daily Library API requests (`daily_requests`), counted in the state before each
/// request goes: every runner of a shared state spends from one count, so N runners together stop
/// at the limit, before Google's own 429, instead of each spending a quota of its own.
struct RequestBudget: Sendable {
    /// The counter's name: Google's quota is per project, and the OAuth client stands for it.
    let name: String
    let limit: Int
    /// Counts one request of `day` (a `QuotaDay` label); false when it would pass `limit`.
    let spend: @Sendable (_ day: String) throws -> Bool
    let now: @Sendable () -> Date

    init(settings: GooglePhotosSettings, context: StageContext, now: @escaping @Sendable () -> Date = Date.init) {
        let (name, limit) = (Self.counterName(clientID: settings.clientID), settings.dailyRequests)
        self.name = name
        self.limit = limit
        self.now = now
        spend = { day in try context.spend(name, day: day, limit: limit) }
    }

    /// The state counter of the project's requests: Google counts per project, the client stands for it.
    static func counterName(clientID: String) -> String { "google-photos requests \(clientID)" }

    /// Counts one request about to go, or stops the run (exit 75) when the day's count is spent.
    func spendOne() throws(StageFailure) {
        let day = QuotaDay(containing: now())
        let allowed: Bool
        do {
            allowed = try spend(day.label)
        } catch {
            throw .retryable("cannot count the request against the daily limit in the state: \(error)")
        }
        guard !allowed else { return }
        throw Self.exhausted(limit: limit, day: day, now: now())
    }

    /// The run stops: what is used up, that pipeline counted it, and when it starts again.
    static func exhausted(limit: Int, day: QuotaDay, now: Date) -> StageFailure {
        let left = max(0, Int(day.resets.timeIntervalSince(now)))
        let reset = ISO8601DateFormatter().string(from: day.resets)
        return .stopsRun(.quotaExhausted, """
            the daily quota of \(limit) Google Photos Library API requests (`daily_requests`) is used up for \(day.label) \
            (Pacific time): pipeline counts every request it sends in its state, shared by every runner of it. Nothing more \
            is sent in this run; the rest is left for the next run. The count starts again at midnight Pacific time \
            (\(reset), in \(left / 3600) h \(left % 3600 / 60) min)
            """)
    }
}
