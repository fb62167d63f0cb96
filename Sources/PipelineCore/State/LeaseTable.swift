/// Who holds which item and which role, until when: the leases of a state that one process keeps
/// in memory (a SQLite state: the state lock lets one process open it, so no lease outlives it).
///
/// The rules every shared driver follows, as values: a lease is held until it ends or is given
/// back; a claim gets a token larger than any before; a runner writes an item it was given only
/// with that token while the lease holds, and any other item only while nobody holds it.
struct LeaseTable: Sendable {
    struct Hold: Sendable, Equatable {
        var owner: RunnerIdentity
        var token: Int64
        var expiresAt: Double
    }

    private(set) var items: [String: Hold] = [:]
    private var roles: [String: Hold] = [:]
    private var lastToken: Int64 = 0

    /// Beyond this many leases kept, ended ones are dropped when the next is given.
    private static let pruneAbove = 4096

    /// Whether nobody holds a lease on `path` that has not ended at `now`.
    func isFree(_ path: String, now: Double) -> Bool {
        guard let hold = items[path] else { return true }
        return hold.expiresAt <= now
    }

    /// Gives `runner` a new lease on `path` until `expiresAt`, with a new token.
    mutating func grant(_ path: String, to runner: RunnerIdentity, until expiresAt: Double, now: Double) -> ItemLease {
        if items.count > Self.pruneAbove { items = items.filter { $0.value.expiresAt > now } }
        lastToken += 1
        items[path] = Hold(owner: runner, token: lastToken, expiresAt: expiresAt)
        return ItemLease(path: path, token: lastToken, expiresAt: expiresAt)
    }

    /// Extends `runner`'s lease of `token` on `path` to `expiresAt` if it still holds at `now`.
    mutating func renew(_ path: String, by runner: RunnerIdentity, token: Int64, until expiresAt: Double, now: Double) -> ItemLease? {
        guard let hold = items[path], hold.owner == runner, hold.token == token, hold.expiresAt > now else { return nil }
        items[path]?.expiresAt = expiresAt
        return ItemLease(path: path, token: token, expiresAt: expiresAt)
    }

    /// Ends `runner`'s lease of `token` on `path` (nothing if another holds it now).
    mutating func release(_ path: String, by runner: RunnerIdentity, token: Int64) {
        if let hold = items[path], hold.owner == runner, hold.token == token { items[path] = nil }
    }

    /// Whether `runner` may write `path` at `now`: with the token it was given (`mine`) while that
    /// lease holds; without one, while no other runner holds a live lease on it.
    func mayWrite(_ path: String, by runner: RunnerIdentity, mine: Int64?, now: Double) -> Bool {
        let hold = items[path]
        if let mine { return hold.map { $0.owner == runner && $0.token == mine && $0.expiresAt > now } ?? false }
        guard let hold else { return true }
        return hold.owner == runner || hold.expiresAt <= now
    }

    /// Takes or keeps `role` for `runner` until `expiresAt`; false while another holds it.
    mutating func holdRole(_ role: String, for runner: RunnerIdentity, until expiresAt: Double, now: Double) -> Bool {
        if let holder = roles[role], holder.owner != runner, holder.expiresAt > now { return false }
        let token = roles[role].flatMap { $0.owner == runner ? $0.token : nil } ?? {
            lastToken += 1
            return lastToken
        }()
        roles[role] = Hold(owner: runner, token: token, expiresAt: expiresAt)
        return true
    }

    mutating func releaseRole(_ role: String, by runner: RunnerIdentity) {
        if roles[role]?.owner == runner { roles[role] = nil }
    }

    /// How many item leases have not ended at `now`.
    func liveCount(now: Double) -> Int { items.values.count { $0.expiresAt > now } }

    /// Forgets every lease and role (the state was emptied); tokens keep rising.
    mutating func removeAll() {
        items = [:]
        roles = [:]
    }
}
