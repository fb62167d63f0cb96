import Foundation
import Synchronization
import Testing
@testable import BuiltinStages
@testable import PipelineCore

/// The album's section as runners take it from one another: a runner that lost it (frozen past
/// its hold while another entered) sends no batch and leaves the new holder's records alone.
@Suite("The album ledger's section across runners")
struct AlbumSectionTests {
    /// The stage's memory, shared like a state's; no other runner's section is enforced here, so
    /// a test enters twice to play two runners.
    final class SharedMemory: StageEventSink {
        let values = Mutex<[String: String]>([:])
        func progress(bytes: Int64, total: Int64?) {}
        func log(_ message: String) {}
        func checkpoint(_ values: [String: JSONValue]) throws {}
        func processStarted(pid: Int32) throws {}
        func waitingForOthers() {}
        func othersMayFollow() -> Bool { false }
        func recall(_ key: String) throws -> String? { values.withLock { $0[key] } }
        func remember(_ changes: [String: String?]) throws {
            values.withLock { values in for (key, value) in changes { values[key] = value } }
        }
    }

    static func context(_ memory: SharedMemory) -> StageContext {
        StageContext(stageName: "upload", item: SourceItem(path: "/a.jpg", size: 1), attempt: 1, workdir: "/tmp",
                     target: WorkPath(itemPath: "/a.jpg", root: "/tmp"), inputFile: nil, earlierOutputs: [:], checkpoint: nil,
                     stop: StopSignal(), events: memory)
    }

    @Test func aRunnerWhoseSectionWasTakenSendsNothingAndLeavesTheNewHoldersBatchAlone() throws {
        let memory = SharedMemory()
        let context = Self.context(memory)
        let batch = AlbumLedger.BatchRecord(position: 4, entries: [.init(token: "mine", name: "a.jpg")])
        try AlbumLedger.withSection(albumID: "A", context: context, lock: NSLock()) { frozen in
            try frozen.begin(batch)
            #expect(try frozen.holdsSection())
            // Meanwhile another runner enters, and has a batch of its own in flight.
            try AlbumLedger.withSection(albumID: "A", context: context, lock: NSLock()) { other in
                try other.begin(AlbumLedger.BatchRecord(position: 4, entries: [.init(token: "theirs", name: "b.jpg")]))
            }
            // Woken up: its batch may not go, and what it records touches nothing of the other's.
            #expect(try !frozen.holdsSection())
            #expect(throws: StageFailure.self) { try frozen.confirmSection() }
            try frozen.abandon()
            #expect(try frozen.batchInFlight()?.entries.first?.token == "theirs")
            try frozen.settle(created: ["mine": .init(id: "m1", fileName: "a.jpg", productURL: nil)], position: 4)
            #expect(try frozen.batchInFlight()?.entries.first?.token == "theirs")
            #expect(try frozen.created("mine")?.id == "m1", "what Google created is still recorded")
            #expect(try context.recall("ledger:A") == nil, "the album's length is asked anew, not guessed")
        }
    }

    @Test func theHolderSettlesItsBatchAndMovesTheLedger() throws {
        let memory = SharedMemory()
        let context = Self.context(memory)
        try AlbumLedger.withSection(albumID: "A", context: context, lock: NSLock()) { ledger in
            try ledger.begin(AlbumLedger.BatchRecord(position: 4, entries: [.init(token: "t", name: "a.jpg")]))
            try ledger.confirmSection()
            try ledger.settle(created: ["t": .init(id: "m", fileName: "a.jpg", productURL: nil)], position: 4)
            #expect(try ledger.batchInFlight() == nil)
            #expect(try context.recall("ledger:A") == "5")
        }
    }
}
