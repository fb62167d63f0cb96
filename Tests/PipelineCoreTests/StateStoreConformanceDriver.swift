import Foundation
import PostgresTestServer
import Testing
@testable import PipelineCore

/// A state driver as the conformance suite sees it: how to open a fresh state, and whether it
/// outlives `close()`.
///
/// Adding a driver to the suite is one line in `all`.
struct StateStoreConformanceDriver: Sendable, CustomTestStringConvertible {
    let name: String
    /// Whether a closed state opens again with everything in it (and `saveCopy` writes a state file).
    let persistent: Bool
    /// Whether `saveCopy` writes a state file (every driver does now: `StateCopier` writes one for those that are not files).
    let savesCopies: Bool
    /// Opens the state kept at `place` (a temporary folder of the test's own): a fresh one the
    /// first time, the one left there by the last `close()` afterwards.
    let open: @Sendable (_ place: String) throws -> any StateStore

    init(name: String, persistent: Bool, savesCopies: Bool? = nil, open: @escaping @Sendable (_ place: String) throws -> any StateStore) {
        self.name = name
        self.persistent = persistent
        self.savesCopies = savesCopies ?? persistent
        self.open = open
    }

    var testDescription: String { name }

    static let all: [StateStoreConformanceDriver] = [sqlite, memory, postgres]
    static var persistentOnes: [StateStoreConformanceDriver] { all.filter(\.persistent) }

    static let sqlite = StateStoreConformanceDriver(name: "SQLite", persistent: true) { place in
        try SQLiteStateStore(path: place + "/conformance.state")
    }
    static let memory = StateStoreConformanceDriver(name: "memory", persistent: false, savesCopies: true) { _ in MemoryStateStore() }
    /// A database of its own on the tests' private cluster; its URL is kept at the place, so the
    /// place opens the same database again. One process alone, without claims.
    static let postgres = StateStoreConformanceDriver(name: "PostgreSQL", persistent: true) { place in
        try PostgresStateStore(url: postgresDatabase(at: place), runner: RunnerIdentity("conformance"))
    }

    /// The database URL kept at `place`, made on first use.
    static func postgresDatabase(at place: String) throws -> String {
        let file = place + "/postgres.url"
        if let url = try? String(contentsOfFile: file, encoding: .utf8) { return url }
        let url = try PostgresServer.shared().makeDatabase()
        try url.write(toFile: file, atomically: true, encoding: .utf8)
        return url
    }

    /// A new temporary folder for one test.
    static func place() throws -> String {
        let directory = NSTemporaryDirectory() + "state-conformance-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}
