import Foundation
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
    /// Opens the state kept at `place` (a temporary folder of the test's own): a fresh one the
    /// first time, the one left there by the last `close()` afterwards.
    let open: @Sendable (_ place: String) throws -> any StateStore

    var testDescription: String { name }

    static let all: [StateStoreConformanceDriver] = [sqlite, memory]
    static var persistentOnes: [StateStoreConformanceDriver] { all.filter(\.persistent) }

    static let sqlite = StateStoreConformanceDriver(name: "SQLite", persistent: true) { place in
        try SQLiteStateStore(path: place + "/conformance.state")
    }
    static let memory = StateStoreConformanceDriver(name: "memory", persistent: false) { _ in MemoryStateStore() }

    /// A new temporary folder for one test.
    static func place() throws -> String {
        let directory = NSTemporaryDirectory() + "state-conformance-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}
