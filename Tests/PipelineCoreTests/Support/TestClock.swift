import Foundation
import Synchronization
@testable import PipelineCore

/// A `RunClock` that moves only when a test says so (`advance`): sleepers wake when the clock
/// passes their deadline, in deadline order. Starts at the real time of its creation (or `date`).
final class TestClock: RunClock {
    private struct Sleeper {
        var id: Int
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Contents {
        var elapsed: Duration = .zero
        var sleepers: [Sleeper] = []
        var nextID = 0
        var cancelled: Set<Int> = []
        /// Tests awaiting a number of sleepers (`sleepers(atLeast:)`).
        var watchers: [(id: Int, count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// Takes out the watchers whose count of sleepers is reached.
        mutating func satisfiedWatchers() -> [CheckedContinuation<Void, Never>] {
            let count = sleepers.count
            defer { watchers.removeAll { $0.count <= count } }
            return watchers.filter { $0.count <= count }.map(\.continuation)
        }
    }

    private let start = ContinuousClock.now
    private let startDate: Date
    private let contents = Mutex(Contents())

    init(date: Date = Date()) { startDate = date }

    var date: Date { startDate.addingTimeInterval(Self.seconds(contents.withLock { $0.elapsed })) }
    var instant: ContinuousClock.Instant { start + contents.withLock { $0.elapsed } }

    /// How many tasks sleep on this clock now.
    var sleeperCount: Int { contents.withLock { $0.sleepers.count } }

    func sleep(for duration: Duration) async throws {
        guard duration > .zero else { return try Task.checkCancellation() }
        let id = contents.withLock { contents -> Int in
            contents.nextID += 1
            return contents.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (cancelledAlready, satisfied) = contents.withLock { contents -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if contents.cancelled.remove(id) != nil { return (true, []) }
                    contents.sleepers.append(Sleeper(id: id, deadline: contents.elapsed + duration, continuation: continuation))
                    return (false, contents.satisfiedWatchers())
                }
                if cancelledAlready { continuation.resume(throwing: CancellationError()) }
                for watcher in satisfied { watcher.resume() }
            }
        } onCancel: {
            let sleeper = contents.withLock { contents -> Sleeper? in
                guard let index = contents.sleepers.firstIndex(where: { $0.id == id }) else {
                    contents.cancelled.insert(id)
                    return nil
                }
                return contents.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns once at least `count` tasks sleep on this clock (awaited, not polled: each new
    /// sleeper looks at the waiting tests), so a test advances the clock only when the code under
    /// test has reached its wait.
    func sleepers(atLeast count: Int) async {
        let id = contents.withLock { contents -> Int in
            contents.nextID += 1
            return contents.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let reached = contents.withLock { contents -> Bool in
                    if contents.sleepers.count >= count || contents.cancelled.remove(id) != nil { return true }
                    contents.watchers.append((id, count, continuation))
                    return false
                }
                if reached { continuation.resume() }
            }
        } onCancel: {
            // A test past its time limit is cancelled: it goes on (and fails) rather than hang.
            let watcher = contents.withLock { contents -> CheckedContinuation<Void, Never>? in
                guard let index = contents.watchers.firstIndex(where: { $0.id == id }) else {
                    contents.cancelled.insert(id)
                    return nil
                }
                return contents.watchers.remove(at: index).continuation
            }
            watcher?.resume()
        }
    }

    /// Moves the clock on by `duration` and wakes every sleeper whose deadline it passed.
    func advance(by duration: Duration) {
        let woken = contents.withLock { contents -> [Sleeper] in
            contents.elapsed += duration
            let due = contents.sleepers.filter { $0.deadline <= contents.elapsed }.sorted { $0.deadline < $1.deadline }
            contents.sleepers.removeAll { $0.deadline <= contents.elapsed }
            return due
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
