import Foundation
import Synchronization
import Testing
@testable import PipelineCore

/// Several runners on one shared state, in-process: the in-memory driver with leases timed by a
/// clock the test moves, so "frozen past its lease" takes no waiting.
@Suite("Runners sharing one state")
struct OrchestratorSharedStateTests {
    /// Which runner took each item's irreversible step, in order.
    final class Destination: Sendable {
        private let steps = Mutex<[(path: String, runner: String)]>([])
        func record(_ path: String, by runner: String) { steps.withLock { $0.append((path, runner)) } }
        var all: [(path: String, runner: String)] { steps.withLock { $0 } }
        func runners(of path: String) -> [String] { all.filter { $0.path == path }.map(\.runner) }
    }

    /// Holds the items it is told to until the test opens it, then takes the irreversible step.
    final class Gate: Sendable {
        private let state = Mutex<(arrived: Set<String>, open: Bool)>(([], false))
        func arrive(_ path: String) { state.withLock { _ = $0.arrived.insert(path) } }
        func hasArrived(_ path: String) -> Bool { state.withLock { $0.arrived.contains(path) } }
        func open() { state.withLock { $0.open = true } }
        var isOpen: Bool { state.withLock { $0.open } }
    }

    struct UploadStage: Stage {
        let runner: String
        let destination: Destination
        var gate: Gate?
        var delay: Duration = .zero

        func run(_ context: StageContext) async throws -> StageResult {
            if let gate {
                gate.arrive(context.item.path)
                while !gate.isOpen { try await Task.sleep(for: .milliseconds(2)) }
            }
            if delay > .zero { try await Task.sleep(for: delay) }
            try await context.beforeIrreversibleStep()
            destination.record(context.item.path, by: runner)
            return .done(["by": .string(runner)])
        }
    }

    struct FetchStage: Stage {
        func run(_ context: StageContext) async throws -> StageResult { .done([:]) }
    }

    struct ListedSource: SourceStage {
        let items: [SourceItem]
        func list(_ context: ListContext) async throws -> [SourceItem] { items }
    }

    struct NullReporter: Reporter {
        func report(_ event: RunEvent) {}
    }

    /// A clock the test moves by hand.
    final class Clock: Sendable {
        private let seconds = Mutex(1_800_000_000.0)
        var now: Double { seconds.withLock { $0 } }
        func advance(by delta: Double) { seconds.withLock { $0 += delta } }
    }

    func orchestrator(_ store: MemoryStateStore, items: [SourceItem], upload: UploadStage) -> Orchestrator {
        var settings = RunSettings(pipelineName: "shared", workdir: NSTemporaryDirectory(), concurrency: 3, maxFailures: 3,
                                   timeBudget: nil, source: nil, redactor: .none)
        settings.lease = TimeSpan(milliseconds: 60_000)
        return Orchestrator(settings: settings, source: ListedSource(items: items),
                            steps: [PipelineStep(name: "fetch", stage: FetchStage()), PipelineStep(name: "upload", stage: upload)],
                            store: store, reporter: NullReporter())
    }

    @Test func twoRunnersShareTheItemsAndTakeEachIrreversibleStepOnce() async throws {
        let first = MemoryStateStore(runner: RunnerIdentity("a"))
        let second = first.joined(as: RunnerIdentity("b"))
        let destination = Destination()
        let items = (0..<60).map { SourceItem(path: "/photo\($0).jpg", size: 1) }
        async let a = orchestrator(first, items: items, upload: UploadStage(runner: "a", destination: destination, delay: .milliseconds(40))).run()
        async let b = orchestrator(second, items: items, upload: UploadStage(runner: "b", destination: destination, delay: .milliseconds(40))).run()
        let (outcomeA, outcomeB) = try await (a, b)

        #expect(outcomeA.completed + outcomeB.completed == 60)
        #expect(outcomeA.completed > 0 && outcomeB.completed > 0, "both runners took work: \(outcomeA.completed) and \(outcomeB.completed)")
        #expect(destination.all.count == 60)
        for item in items { #expect(destination.runners(of: item.path).count == 1, "\(item.path)") }
        #expect(try first.summary(maxFailures: 3).completed == 60)
    }

    /// Workers that run out of items together make one claim, not one each: a runner holds no
    /// more than its items in flight, and the rest stays for the other runners.
    @Test func aRunnerHoldsNoMoreThanItsItemsInFlight() async throws {
        let store = MemoryStateStore(runner: RunnerIdentity("a"))
        let destination = Destination(), gate = Gate()
        let items = (0..<30).map { SourceItem(path: "/photo\($0).jpg", size: 1) }
        let orchestrator = orchestrator(store, items: items, upload: UploadStage(runner: "a", destination: destination, gate: gate))
        let run = Task { try await orchestrator.run() }
        while !gate.hasArrived("/photo0.jpg") { try await Task.sleep(for: .milliseconds(2)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(try store.liveLeaseCount() <= orchestrator.itemsInFlight, "items in flight: \(orchestrator.itemsInFlight)")
        #expect(try store.joined(as: RunnerIdentity("b")).claimItems(limit: 30, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 1)).count
                >= 30 - orchestrator.itemsInFlight)
        gate.open()
        _ = try await run.value
    }

    @Test func aRunnerFrozenPastItsLeaseLosesTheItemAndNeverTakesTheIrreversibleStep() async throws {
        let clock = Clock()
        let first = MemoryStateStore(now: { clock.now }, runner: RunnerIdentity("frozen"))
        let second = first.joined(as: RunnerIdentity("other"))
        let destination = Destination(), gate = Gate()
        let items = [SourceItem(path: "/x.jpg", size: 1)]
        let frozen = Task { try await orchestrator(first, items: items, upload: UploadStage(runner: "frozen", destination: destination, gate: gate)).run() }
        while !gate.hasArrived("/x.jpg") { try await Task.sleep(for: .milliseconds(2)) }

        // The first runner "sleeps" past its 60 s lease; the other takes the item over and finishes it.
        clock.advance(by: 120)
        let other = try await orchestrator(second, items: items, upload: UploadStage(runner: "other", destination: destination)).run()
        #expect(other.completed == 1)

        // The frozen runner wakes up: its irreversible step is refused, and so is any write.
        gate.open()
        let late = try await frozen.value
        #expect(late.completed == 0 && late.left == 1)
        #expect(destination.runners(of: "/x.jpg") == ["other"])
        #expect(try first.item("/x.jpg")?.status == .completed)
        #expect(try first.stageRecords(for: "/x.jpg")["upload"]?.outputs == ["by": "other"])
    }

    @Test func aLateCommitOfALostLeaseIsRefusedWhole() async throws {
        let clock = Clock()
        let first = MemoryStateStore(now: { clock.now }, runner: RunnerIdentity("a"))
        let second = first.joined(as: RunnerIdentity("b"))
        _ = try first.recordListing([SourceItem(path: "/x", size: 1), SourceItem(path: "/y", size: 1)])
        let claimed = try first.claimItems(limit: 2, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 1000))
        #expect(claimed.map(\.item.path) == ["/x", "/y"])
        #expect(try second.claimItems(limit: 2, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 1000)).isEmpty)
        clock.advance(by: 2)
        let taken = try second.claimItems(limit: 1, maxFailures: 3, leaseFor: TimeSpan(milliseconds: 1000))
        #expect(taken.map(\.item.path) == ["/x"] && taken[0].lease.token > claimed[1].lease.token)
        await #expect(throws: LeaseLost(paths: ["/x", "/y"])) {
            try await first.commit([.stageStarted(path: "/y", stage: "upload", attempt: 1), .stageStarted(path: "/x", stage: "upload", attempt: 1)])
        }
        #expect(try first.stageRecords(for: "/y").isEmpty, "nothing of the refused commit was recorded")
        try await second.commit([.stageStarted(path: "/x", stage: "upload", attempt: 1)])
        #expect(try first.renewLeases(["/x", "/y"], for: TimeSpan(milliseconds: 1000)).isEmpty)
    }
}
