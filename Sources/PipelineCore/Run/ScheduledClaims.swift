import Foundation

/// The pipeline file's schedule applied to a run's state: the classes stored beside the items,
/// the plan of each claim (at the run clock's time, with the quota preference), and what the run
/// says at its end about items left waiting.
///
/// The decisions are `Schedule`'s, `ClaimPlan`'s and `QuotaPreference`'s; this only reads the
/// clock and the state's counters and writes the classes.
final class ScheduledClaims: Sendable {
    let schedule: Schedule
    let clock: any RunClock
    let quotas: [QuotaModel]
    let store: any SharedStateStore
    let maxFailures: Int

    /// Items classified again per page when the rules changed.
    static let page = 1000

    init(settings: RunSettings, store: any SharedStateStore) {
        self.schedule = settings.schedule
        self.clock = settings.clock
        self.quotas = settings.quotas
        self.store = store
        self.maxFailures = settings.maxFailures
    }

    /// What a claim made now may take, and in which order.
    func plan() throws -> ClaimPlan {
        schedule.claimPlan(at: clock.date, sizeLimit: try quotaSizeLimit())
    }

    /// What is left of each counted quota today, from the state's counters, made into a size limit.
    private func quotaSizeLimit() throws -> Int64? {
        let counted = quotas.compactMap { model in model.counter.map { (model, $0) } }
        guard !counted.isEmpty else { return nil }
        let now = clock.date
        let counters = try store.counters()
        return QuotaPreference.sizeLimit(counted.map { model, counter in
            let period = counter.period(now)
            let spent = counters.first { $0.name == counter.name && $0.period == period }?.value ?? 0
            return (model, model.dailyRequests - spent)
        })
    }

    /// Stores the classes of a batch just listed.
    func classify(_ items: [SourceItem]) throws {
        guard !schedule.classifiesNothing, !items.isEmpty else { return }
        try store.setScheduleClasses(Dictionary(items.map { ($0.path, schedule.classify(path: $0.path, size: $0.size)) },
                                                uniquingKeysWith: { first, _ in first }))
    }

    /// Computes every item's class again, page by page, when the state's were made under other
    /// rules (or none); then records the rules' digest. Called by the lister before it lists.
    func refreshClasses() throws {
        let digest = schedule.classDigest
        let recorded = try store.metadata(Schedule.digestKey)
        guard recorded != digest else { return }
        // A state that never had rules holds every item at the default class.
        if recorded != nil || !schedule.classifiesNothing {
            var cursor: ItemPage.Cursor?
            repeat {
                let page = try store.itemPage(after: cursor, limit: Self.page)
                try store.setScheduleClasses(Dictionary(page.items.map { stored in
                    (stored.record.path, schedule.classify(path: stored.record.path, size: stored.record.size ?? 0))
                }, uniquingKeysWith: { first, _ in first }))
                cursor = page.next
            } while cursor != nil
        }
        try store.setMetadata(Schedule.digestKey, digest)
    }

    /// Items left waiting at the end of a run — for a closed window, or for the next quota day —
    /// and what to say about them.
    func waiting() throws -> (count: Int, notices: [String]) {
        let now = clock.date
        let closed = schedule.closedWindows(at: now)
        var count = 0
        var notices: [String] = []
        if !closed.isEmpty {
            let counts = try store.waitingByWindow(maxFailures: maxFailures).filter { closed.contains($0.key) }
            count += counts.values.reduce(0, +)
            notices += schedule.waitingNotices(counts: counts, at: now)
        }
        // What the quota has left now: items over that limit were not claimed (or would not be now).
        if let limit = try quotaSizeLimit() {
            var tooLarge = 0
            var cursor: SizePage.Cursor?
            repeat {
                let page = try store.unfinishedSizes(maxFailures: maxFailures, after: cursor, limit: Self.page)
                tooLarge += page.sizes.count { $0 > limit }
                cursor = page.next
            } while cursor != nil
            if tooLarge > 0 {
                count += tooLarge
                notices.append("\(tooLarge) \(tooLarge == 1 ? "item waits" : "items wait") for the next quota day: each needs more requests than are left today (items up to \(ByteSize.format(limit)) went first)")
            }
        }
        return (count, notices)
    }
}
