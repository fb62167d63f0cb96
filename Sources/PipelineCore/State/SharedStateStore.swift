import Foundation

/// A state that several runners work from at once: each takes items under a lease, renews it while
/// it works, and may write an item only while it holds the item's lease.
///
/// The way the proven PostgreSQL job queues work (River, Oban, graphile-worker): an item is
/// claimed with `FOR UPDATE SKIP LOCKED`, so two runners never take the same one; a lease ends
/// unless renewed, so a runner killed or frozen loses its items to the others; and every write
/// carries the lease's fencing token, so a runner that wakes up after its lease ended cannot
/// write over the one that took its items over.
///
/// Times are the state's own clock (the database server's), never a runner's, so runners whose
/// clocks disagree still agree about when a lease ends.
///
/// The listing: one runner at a time holds the `lister` role and lists the source into the state,
/// in batches, under a new listing generation; runners work on the items of the latest generation.
public protocol SharedStateStore: StateStore {
    /// Who this store writes as.
    var runner: RunnerIdentity { get }

    /// Whether calls return without waiting on a network (an embedded or in-memory state), so a
    /// caller may make them on the async world's threads rather than on one of their own.
    var answersAtOnce: Bool { get }

    // MARK: Leases on items

    /// Claims up to `limit` items of the latest listing generation that need work — pending, in
    /// progress, or failed fewer than `maxFailures` runs — and that no runner holds a live lease on.
    /// Items in progress come first; the others only where `plan` lets them start now (their
    /// window is open, their size within its limit), in `plan`'s order (`ClaimPlan.precedes`:
    /// priority rank, fewer failures, the schedule's order, the listing order). Each gets a new
    /// lease ending `duration` from now with a fencing token larger than any given before. A claim
    /// reads about as many items as it takes (an index per order).
    func claimItems(limit: Int, maxFailures: Int, leaseFor duration: TimeSpan, plan: ClaimPlan) throws -> [ClaimedItem]

    /// Keeps each item's schedule class (`Schedule.classify`), computed when it is listed; paths
    /// the state does not hold are passed over. Writes only the classes that changed.
    func setScheduleClasses(_ classes: [String: ScheduleClass]) throws

    /// Items of the latest listing waiting to start (pending, or failed fewer than `maxFailures`
    /// runs), counted by their window class (1…; items without a window are not counted).
    func waitingByWindow(maxFailures: Int) throws -> [Int: Int]

    /// Extends the leases this runner still holds on `paths` to `duration` from now; returns them.
    /// A path missing from the answer is lost (ended and taken, or forgotten): stop working on it.
    func renewLeases(_ paths: [String], for duration: TimeSpan) throws -> [ItemLease]

    /// Gives up this runner's leases on `paths` (the items are finished with, or left for later).
    func releaseLeases(_ paths: [String]) throws

    /// How many items some runner holds a lease on that has not ended: the state is being worked on.
    func liveLeaseCount() throws -> Int

    // Every `commit` of a shared store is fenced: it commits only if, for every item it names,
    // this runner holds the lease it was given (same token) and it has not ended; otherwise
    // nothing of it is committed and it throws `LeaseLost` naming the items.

    // MARK: Roles and the listing

    /// Takes, or keeps, the named role (`"lister"`) until `duration` from now; true while this
    /// runner holds it. Another runner gets it only once this one's has ended or was released.
    func holdRole(_ role: String, for duration: TimeSpan) throws -> Bool

    /// Gives up the role if this runner holds it.
    func releaseRole(_ role: String) throws

    /// Where the listing stands.
    func listingProgress() throws -> ListingProgress

    /// Starts a new listing generation (the caller holds the `lister` role); returns its number.
    func beginListing() throws -> Int64

    /// Records a batch of a listing under `generation`: like `recordListing`, and each item is marked
    /// as seen in it, with its `extra` kept for the runners that did not list it.
    func recordListing(_ items: [SourceItem], generation: Int64) throws -> ListingChanges

    /// Marks `generation` complete: every item it has is recorded.
    func finishListing(_ generation: Int64) throws

}

extension SharedStateStore {
    /// A claim without a schedule: in progress first, then fresh before failed, in listing order.
    public func claimItems(limit: Int, maxFailures: Int, leaseFor duration: TimeSpan) throws -> [ClaimedItem] {
        try claimItems(limit: limit, maxFailures: maxFailures, leaseFor: duration, plan: .listed)
    }
}

/// A runner in a shared state: unique per process, readable in messages (`host/pid/random`).
public struct RunnerIdentity: Sendable, Hashable, CustomStringConvertible {
    public let id: String
    public init(_ id: String) { self.id = id }
    public var description: String { id }
}

/// A runner's hold on one item until `expiresAt` (seconds since 1970, by the state's clock).
public struct ItemLease: Sendable, Equatable {
    public var path: String
    /// Larger for every later claim of any item: the fencing token a write is checked against.
    public var token: Int64
    public var expiresAt: Double

    public init(path: String, token: Int64, expiresAt: Double) {
        self.path = path
        self.token = token
        self.expiresAt = expiresAt
    }
}

/// An item a claim handed to this runner: as the source listed it, as the state has it, and the lease.
public struct ClaimedItem: Sendable, Equatable {
    public var item: SourceItem
    public var record: ItemRecord
    public var lease: ItemLease

    public init(item: SourceItem, record: ItemRecord, lease: ItemLease) {
        self.item = item
        self.record = record
        self.lease = lease
    }
}

/// The latest listing generation (0: never listed) and whether it is complete.
public struct ListingProgress: Sendable, Equatable {
    public var generation: Int64
    public var complete: Bool

    public init(generation: Int64, complete: Bool) {
        self.generation = generation
        self.complete = complete
    }
}

/// A fenced commit named items this runner no longer holds: nothing of it was committed.
public struct LeaseLost: Error, Sendable, Equatable, CustomStringConvertible {
    public var paths: [String]

    public init(paths: [String]) { self.paths = paths }

    public var description: String {
        "the lease on \(paths.count == 1 ? "'\(paths[0])'" : "\(paths.count) items") ended before the write (another runner took it over, or it was forgotten); nothing was recorded"
    }
}

extension RunnerIdentity {
    /// This process: `host/pid/random`, unique even when two runners on one host reuse a pid.
    public static func current() -> RunnerIdentity {
        let host = ProcessInfo.processInfo.hostName.prefix(64)
        let random = String(UInt32.random(in: .min ... .max), radix: 16)
        return RunnerIdentity("\(host)/\(getpid())/\(random)")
    }
}
