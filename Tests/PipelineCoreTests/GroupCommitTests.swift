import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// Commits that arrive while one runs share the next transaction, and a batch that fails is
/// committed caller by caller, so each caller gets its own answer.
@Suite("Group commit")
struct GroupCommitTests {
    /// A "database": records each transaction's paths; refuses any holding a path named "bad",
    /// and takes a little while, so that callers pile up.
    final class Log: Sendable {
        private let transactions = Mutex<[[String]]>([])
        var all: [[String]] { transactions.withLock { $0 } }
        func commit(_ transitions: [StateTransition]) throws {
            Thread.sleep(forTimeInterval: 0.005)
            let paths = transitions.map(\.path)
            if paths.contains("bad") { throw LeaseLost(paths: ["bad"]) }
            transactions.withLock { $0.append(paths) }
        }
    }

    func transition(_ path: String) -> StateTransition { .stageStarted(path: path, stage: "upload", attempt: 1) }

    @Test func callersArrivingTogetherShareTransactionsAndEachReturnsOnceItsOwnIsIn() async throws {
        let group = GroupCommit(), log = Log()
        let paths = (0..<40).map { "/p\($0)" }
        try await withThrowingTaskGroup(of: String.self) { tasks in
            for path in paths {
                tasks.addTask {
                    try await group.commit([self.transition(path)], perform: { try await Blocking.run($0) }) { try log.commit($0) }
                    // Returned: its transition is committed already.
                    #expect(log.all.joined().contains(path))
                    return path
                }
            }
            var returned: [String] = []
            for try await path in tasks { returned.append(path) }
            #expect(Set(returned) == Set(paths))
        }
        #expect(log.all.joined().sorted() == paths.sorted(), "each committed exactly once")
        #expect(log.all.count < paths.count, "\(log.all.count) transactions for \(paths.count) callers: none were merged")
    }

    @Test func aFailedBatchIsCommittedCallerByCallerAndOnlyTheBadOneFails() async throws {
        let group = GroupCommit(), log = Log()
        let paths = (0..<12).map { "/p\($0)" } + ["bad"] + (12..<24).map { "/p\($0)" }
        let failures = await withTaskGroup(of: String?.self) { tasks in
            for path in paths {
                tasks.addTask {
                    do {
                        try await group.commit([self.transition(path)], perform: { try await Blocking.run($0) }) { try log.commit($0) }
                        return nil
                    } catch {
                        return path
                    }
                }
            }
            var failed: [String] = []
            for await path in tasks { if let path { failed.append(path) } }
            return failed
        }
        #expect(failures == ["bad"])
        #expect(log.all.joined().sorted() == paths.filter { $0 != "bad" }.sorted())
    }
}
