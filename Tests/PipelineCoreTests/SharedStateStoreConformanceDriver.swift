import Foundation
import Synchronization
import PostgresTestServer
import Testing
@testable import PipelineCore

/// A shared state driver as `SharedStateStoreConformanceTests` sees it: how to make a fresh state
/// that several runners open, and how to let short leases end.
///
/// Adding a driver is one line in `all`. A driver with an injected clock ends leases by moving the
/// clock; one on a server's clock waits them out (which is why `shortLease` is short).
struct SharedStateStoreConformanceDriver: Sendable, CustomTestStringConvertible {
    let name: String
    /// A lease the tests let end; `longLease` outlives every test.
    let shortLease: TimeSpan
    let makeState: @Sendable () throws -> State

    /// One fresh shared state.
    struct State: Sendable {
        /// Opens a store on this state for the runner named `runner` (each call: another store).
        let open: @Sendable (_ runner: String) throws -> any SharedStateStore
        /// Returns once every lease of `shortLease` taken before the call has ended by the state's clock.
        let endShortLeases: @Sendable () async throws -> Void
    }

    let longLease = TimeSpan(milliseconds: 600_000)
    var testDescription: String { name }

    static let all: [SharedStateStoreConformanceDriver] = [memory, sqlite, postgres]

    /// The reference driver; leases end by moving its clock.
    static let memory = SharedStateStoreConformanceDriver(name: "memory", shortLease: TimeSpan(milliseconds: 300)) {
        let clock = Mutex(1_800_000_000.0)
        let base = MemoryStateStore(now: { clock.withLock { $0 } })
        return State(open: { runner in base.joined(as: RunnerIdentity(runner)) },
                     endShortLeases: { clock.withLock { $0 += 1 } })
    }

    /// A state file of its own; runners are stores joined to one open state (one process opens a
    /// file), and leases end by moving its clock.
    static let sqlite = SharedStateStoreConformanceDriver(name: "SQLite", shortLease: TimeSpan(milliseconds: 300)) {
        let clock = Mutex(1_800_000_000.0)
        let path = NSTemporaryDirectory() + "shared-conformance-\(UUID().uuidString).state"
        let base = try SQLiteStateStore(path: path, runner: RunnerIdentity("opener"), now: { clock.withLock { $0 } })
        return State(open: { runner in base.joined(as: RunnerIdentity(runner)) },
                     endShortLeases: { clock.withLock { $0 += 1 } })
    }

    /// A database of its own on the tests' private cluster; leases end by waiting on the server's clock.
    static let postgres = SharedStateStoreConformanceDriver(name: "PostgreSQL", shortLease: TimeSpan(milliseconds: 300)) {
        let url = try PostgresServer.shared().makeDatabase()
        return State(open: { runner in try PostgresStateStore(url: url, runner: RunnerIdentity(runner)) },
                     endShortLeases: { try await Task.sleep(for: .milliseconds(450)) })
    }
}
