import Foundation
import Synchronization

/// The items of a state, claimed a few at a time under leases that a heartbeat renews: the one
/// way a run takes its work, whether one runner works on the state or several.
///
/// A claim takes a small batch (the runner's items in flight), so the other runners get theirs.
/// The heartbeat renews every held lease at a third of the lease's length; a lease it cannot renew
/// was lost (this runner was frozen or cut off too long, and another took the item over): the
/// item's stop signal fires, its stages stop, and its later writes are refused by the store.
/// When nothing is left to claim but the listing is not complete, it waits for the lister, and
/// takes the listing over when no runner holds the `lister` role.
final class ClaimedWork: WorkSupply {
    let store: any SharedStateStore
    let lease: TimeSpan
    let maxFailures: Int
    let batch: Int
    let runStop: StopSignal
    /// Lists the source when no runner does (the lister died): called with the role held.
    private let takeOverListing: @Sendable () async throws -> Void
    /// Turns claimed items into work: skips what the run will not do (too large), commits that.
    private let admit: @Sendable ([ClaimedItem]) async throws -> [WorkItem]
    /// A store error ends the supply: the run stops (the state is unreachable).
    private let failed: @Sendable (any Error) -> Void
    /// Items whose lease was lost (another runner has them now).
    private let lost: @Sendable ([String]) -> Void
    /// What a claim made now may take, and in which order (the schedule at the current time).
    private let plan: @Sendable () throws -> ClaimPlan

    private struct Held {
        var lease: ItemLease
        var stop: StopSignal
    }

    private struct Contents {
        var waiting: [WorkItem] = []
        var held: [String: Held] = [:]
        /// Held items that failed in this run: kept (renewed) until the run ends, not worked on.
        var failed: Set<String> = []
        var exhausted = false
        var drained = false
    }

    private let contents = Mutex(Contents())
    private let heartbeat = Mutex<Task<Void, Never>?>(nil)

    /// How long to wait before asking again while another runner lists.
    static let listingPoll = TimeSpan(milliseconds: 500)

    init(store: any SharedStateStore, lease: TimeSpan, maxFailures: Int, batch: Int, runStop: StopSignal,
         takeOverListing: @escaping @Sendable () async throws -> Void,
         admit: @escaping @Sendable ([ClaimedItem]) async throws -> [WorkItem],
         failed: @escaping @Sendable (any Error) -> Void, lost: @escaping @Sendable ([String]) -> Void,
         plan: @escaping @Sendable () throws -> ClaimPlan = { .listed }) {
        self.plan = plan
        self.store = store
        self.lease = lease
        self.maxFailures = maxFailures
        self.batch = max(1, batch)
        self.runStop = runStop
        self.takeOverListing = takeOverListing
        self.admit = admit
        self.failed = failed
        self.lost = lost
    }

    /// Until when a lease renewed (or claimed) at `sent` surely holds, by this process's clock:
    /// the server counts its length from when the request arrived, later than `sent`. A margin of
    /// a fifth of the lease covers clocks that run at slightly different rates.
    private func surelyHeld(from sent: ContinuousClock.Instant) -> ContinuousClock.Instant {
        sent + .milliseconds(lease.milliseconds * 4 / 5)
    }

    /// Starts renewing held leases.
    func start() {
        let task = Task { [weak self, lease] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(max(1, lease.milliseconds / 3)))
                guard let self, !Task.isCancelled else { return }
                await self.renew()
            }
        }
        heartbeat.withLock { $0 = task }
    }

    /// Renews every held lease; lets go of the items whose lease is lost.
    func renew() async {
        let paths = contents.withLock { Array($0.held.keys) }
        guard !paths.isEmpty else { return }
        let store = store, lease = lease
        let sent = ContinuousClock.now
        guard let renewed = try? await ask({ try store.renewLeases(paths, for: lease) }) else {
            // Unreachable now: the leases run on, and a write after they end is refused anyway.
            return
        }
        let kept = Set(renewed.map(\.path))
        let until = surelyHeld(from: sent)
        let gone = contents.withLock { contents -> [(path: String, stop: StopSignal)] in
            for lease in renewed {
                contents.held[lease.path]?.lease = lease
                contents.held[lease.path]?.stop.leaseEnds(at: until)
            }
            var gone: [(path: String, stop: StopSignal)] = []
            for path in paths where !kept.contains(path) {
                if let held = contents.held.removeValue(forKey: path) { gone.append((path, held.stop)) }
                contents.waiting.removeAll { $0.item.path == path }
            }
            return gone
        }
        for item in gone { item.stop.stop(.leaseLost) }
        // A failed item's lease only kept it from being tried again in this run: losing it loses nothing.
        let lostWork = contents.withLock { contents in gone.map(\.path).filter { contents.failed.remove($0) == nil } }
        if !lostWork.isEmpty { lost(lostWork) }
    }

    func next() async -> WorkItem? {
        while true {
            let (item, done) = contents.withLock { contents -> (WorkItem?, Bool) in
                if contents.drained { return (nil, true) }
                if !contents.waiting.isEmpty { return (contents.waiting.removeFirst(), false) }
                return (nil, contents.exhausted)
            }
            if let item { return item }
            if done || runStop.isStopped { return nil }
            do {
                if try await claimOnce() { continue }
                // Nothing to claim. While a runner lists, more may come: wait for it. With no
                // lister, the listing is done, or its lister died and this runner lists again.
                let store = store, lease = lease
                guard try await ask({ try store.holdRole(SharedRole.lister, for: lease) }) else {
                    _ = await runStop.sleep(for: Self.listingPoll.duration, on: SystemRunClock())
                    continue
                }
                if try await ask({ try store.listingProgress() }).complete {
                    try await ask { try store.releaseRole(SharedRole.lister) }
                    if try await claimOnce() { continue }
                    contents.withLock { $0.exhausted = true }
                    return nil
                }
                try await takeOverListing()
            } catch {
                failed(error)
                contents.withLock { $0.exhausted = true }
                return nil
            }
        }
    }

    /// One claim at a time: workers that run out together wait for the claim under way, so a
    /// runner holds no more than its items in flight and leaves the rest to the other runners.
    private func claimOnce() async throws -> Bool {
        let task = claiming.withLock { current -> Task<Bool, any Error> in
            if let current { return current }
            let task = Task<Bool, any Error> {
                defer { self.claiming.withLock { $0 = nil } }
                return try await self.claim()
            }
            current = task
            return task
        }
        return try await task.value
    }

    private let claiming = Mutex<Task<Bool, any Error>?>(nil)

    /// Claims what this runner can work on now (its items in flight, less those it holds); false
    /// when there was nothing to claim.
    private func claim() async throws -> Bool {
        let store = store, maxFailures = maxFailures, lease = lease
        let limit = max(1, batch - contents.withLock { $0.held.count - $0.failed.count })
        let sent = ContinuousClock.now
        let plan = plan
        let claimed = try await ask { try store.claimItems(limit: limit, maxFailures: maxFailures, leaseFor: lease, plan: try plan()) }
        guard !claimed.isEmpty else { return false }
        contents.withLock { contents in
            for claim in claimed {
                let stop = StopSignal(parent: runStop)
                stop.leaseEnds(at: surelyHeld(from: sent))
                contents.held[claim.lease.path] = Held(lease: claim.lease, stop: stop)
            }
        }
        let work = try await admit(claimed)
        let admitted = Set(work.map(\.item.path))
        for path in claimed.map(\.lease.path) where !admitted.contains(path) { await ended(path) }
        contents.withLock { $0.waiting.append(contentsOf: work) }
        return true
    }

    var mayHaveMore: Bool {
        contents.withLock { !$0.drained && (!$0.waiting.isEmpty || !$0.exhausted) }
    }

    func stopSignal(for path: String) -> StopSignal {
        contents.withLock { $0.held[path]?.stop } ?? {
            // Not held (lost already): stopped from the start.
            let lost = StopSignal(parent: runStop)
            lost.stop(.leaseLost)
            return lost
        }()
    }

    /// Renews the item's lease right before an irreversible step, and refuses the step unless the
    /// renewal came back within a third of the lease (so at least two thirds are left for the step).
    func secure(_ path: String) async throws {
        let store = store, lease = lease
        let began = ContinuousClock.now
        let renewed = try await ask { try store.renewLeases([path], for: lease) }
        let took = ContinuousClock.now - began
        guard let held = renewed.first(where: { $0.path == path }) else {
            let signal = contents.withLock { $0.held.removeValue(forKey: path)?.stop }
            signal?.stop(.leaseLost)
            lost([path])
            throw LeaseLost(paths: [path])
        }
        contents.withLock { contents in
            contents.held[path]?.lease = held
            contents.held[path]?.stop.leaseEnds(at: surelyHeld(from: began))
        }
        guard took < .milliseconds(lease.milliseconds / 3) else {
            throw StageFailure.retryable("renewing the lease on the item took \(took) of its \(lease): too little would be left for an irreversible step")
        }
    }

    /// Holds the role `name` (every runner's, by its name) while `body` runs, renewing it on a
    /// thread of its own; waits for it while another runner holds it, unless the run stops.
    func exclusively<T>(_ name: String, _ body: () throws -> T) throws -> T {
        while !(try store.holdRole(name, for: lease)) {
            if !runStop.wait(for: Self.sectionPoll.duration) { throw StageFailure.interrupted }
        }
        let done = Latch()
        let store = store, lease = lease
        let keeper = Thread {
            while !done.wait(for: .milliseconds(max(1, lease.milliseconds / 3))) {
                _ = try? store.holdRole(name, for: lease)
            }
        }
        keeper.start()
        defer {
            done.open()
            try? store.releaseRole(name)
        }
        return try body()
    }

    /// Makes a store call: at once when the store answers without waiting on a network (a
    /// single runner on SQLite pays no thread for its leases), else on a thread of its own.
    private func ask<Value: Sendable>(_ call: @escaping @Sendable () throws -> Value) async throws -> Value {
        store.answersAtOnce ? try call() : try await Blocking.run(call)
    }

    /// How often a runner waiting for a section asks again.
    static let sectionPoll = TimeSpan(milliseconds: 200)

    func ended(_ path: String) async {
        guard contents.withLock({ $0.held.removeValue(forKey: path) != nil }) else { return }
        let store = store
        // Best effort: a lease not given back ends on its own.
        _ = try? await ask { try store.releaseLeases([path]) }
    }

    func failed(_ path: String) async {
        contents.withLock { contents in
            if contents.held[path] != nil { contents.failed.insert(path) }
        }
    }

    private func release(_ paths: [String]) {
        let held = contents.withLock { contents in
            paths.filter { path in
                contents.failed.remove(path)
                return contents.held.removeValue(forKey: path) != nil
            }
        }
        guard !held.isEmpty else { return }
        try? store.releaseLeases(held)
    }

    func drain() -> Int {
        let left = contents.withLock { contents -> [WorkItem] in
            contents.drained = true
            defer { contents.waiting = [] }
            return contents.waiting
        }
        release(left.map(\.item.path))
        return left.count
    }

    /// Stops the heartbeat and gives back every lease still held.
    func finish() {
        heartbeat.withLock { $0?.cancel(); $0 = nil }
        release(contents.withLock { Array($0.held.keys) })
    }
}

/// The roles one runner of a shared state holds at a time.
enum SharedRole {
    static let lister = "lister"
}
