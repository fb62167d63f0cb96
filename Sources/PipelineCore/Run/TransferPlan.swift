import Foundation

/// What is left, and what it costs under the destinations' daily quotas: items and bytes left,
/// the requests they need, the days that takes and the day it should be done. `pipeline plan`
/// prints it; every run ends with it (the log, the Actions step summary, JSON).
public struct TransferPlan: Sendable, Equatable, Codable {
    public struct QuotaUse: Sendable, Equatable, Codable {
        public var service: String
        public var requests: Int
        public var dailyRequests: Int
        /// Whole days: a quota resets once a day, so 1.2 days of requests take two days.
        public var days: Int

        enum CodingKeys: String, CodingKey {
            case service, requests, days
            case dailyRequests = "daily_requests"
        }
    }

    /// Items that will still run: not completed, skipped or given up.
    public var items: Int
    public var bytes: Int64
    public var quotas: [QuotaUse]

    /// The plan for items of these sizes under these quotas.
    public init(sizes: [Int64], quotas models: [QuotaModel]) {
        var tally = Tally(models: models)
        tally.add(sizes)
        self = tally.plan
    }

    /// The plan for what `store` says is left: its sizes read page by page (`unfinishedSizes`),
    /// never every item at once.
    public init(store: any StateStore, maxFailures: Int, quotas models: [QuotaModel]) throws {
        var tally = Tally(models: models)
        var cursor: SizePage.Cursor?
        repeat {
            let page = try store.unfinishedSizes(maxFailures: maxFailures, after: cursor, limit: Self.sizesPerRead)
            tally.add(page.sizes)
            cursor = page.next
        } while cursor != nil
        self = tally.plan
    }

    private init(items: Int, bytes: Int64, quotas: [QuotaUse]) {
        self.items = items
        self.bytes = bytes
        self.quotas = quotas
    }

    /// How many sizes one read of the store brings.
    static let sizesPerRead = 10_000

    /// The items counted so far and the requests of their own they need, by quota.
    private struct Tally {
        let models: [QuotaModel]
        var items = 0
        var bytes: Int64 = 0
        var own: [Int]

        init(models: [QuotaModel]) {
            self.models = models
            own = models.map { _ in 0 }
        }

        mutating func add(_ sizes: [Int64]) {
            for size in sizes {
                items += 1
                bytes += size
                for (index, model) in models.enumerated() { own[index] += model.requestsPerItem(size) }
            }
        }

        /// With the requests several items share (a batch of items in one request).
        var plan: TransferPlan {
            TransferPlan(items: items, bytes: bytes, quotas: zip(models, own).map { model, own in
                let requests = own + (model.itemsPerSharedRequest.map { (items + $0 - 1) / $0 } ?? 0)
                return QuotaUse(service: model.service, requests: requests, dailyRequests: model.dailyRequests,
                                days: (requests + model.dailyRequests - 1) / model.dailyRequests)
            })
        }
    }

    /// The longest quota wait, in days (0: no quota, or nothing left).
    public var days: Int { quotas.map(\.days).max() ?? 0 }

    /// One line: "1,234 items (5.6GB) left: 1,260 Google Photos Library API requests, 1 day at
    /// 10,000 a day (done around 2026-12-01)".
    public func line(from now: Date = Date()) -> String {
        guard items > 0 else { return "nothing left to do" }
        var line = "\(Self.count(items)) item\(items == 1 ? "" : "s") (\(ByteSize.format(bytes))) left"
        guard !quotas.isEmpty else { return line }
        line += ": " + quotas.map { "\(Self.count($0.requests)) \($0.service) requests, \($0.days) day\($0.days == 1 ? "" : "s") at \(Self.count($0.dailyRequests)) a day" }
            .joined(separator: "; ")
        return line + " (quota allowing, done around \(doneAround(from: now)))"
    }

    /// The day the longest quota wait should end (`2026-12-01`): today when today's quota is enough.
    public func doneAround(from now: Date = Date()) -> String {
        Self.day(Calendar(identifier: .gregorian).date(byAdding: .day, value: max(0, days - 1), to: now) ?? now)
    }

    static func count(_ value: Int) -> String {
        let digits = String(value)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return grouped
    }

    static func day(_ date: Date) -> String {
        String(UTCTimestamp.iso8601(seconds: Int(date.timeIntervalSince1970)).prefix(10))
    }
}
