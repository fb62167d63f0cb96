import Foundation
import Testing

extension EndToEnd {
@Suite("Scheduling")
struct SchedulingTests {
    /// The most items between their first stage and their end at any moment of a run's events.
    func mostItemsInFlight(_ events: [[String: Any]]) -> Int {
        var active = Set<String>(), most = 0
        for event in events {
            guard let path = event["path"] as? String else { continue }
            if event.event("stage_started") { active.insert(path) }
            if event.event("item_completed") || event.event("item_failed") || event.event("item_left") { active.remove(path) }
            most = max(most, active.count)
        }
        return most
    }

    @Test func aDiskBudgetBoundsTheItemsStagedAtOnce() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let originals = try sandbox.makeFiles(count: 6, sizes: 1_000_000...1_000_000)
        try sandbox.writeLocalPipeline(concurrency: 4, fetchRate: "4MB")
        let bounded = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json", "--disk-budget", "2.5MB"], in: sandbox.root)
        #expect(bounded.status == 0, "\(bounded.error)")
        let events = PipelineProcess.events(in: bounded.output)
        #expect(mostItemsInFlight(events) == 2, "2.5MB holds two 1MB items, not more")
        #expect(Set(sandbox.files(in: sandbox.destination).keys) == Set(originals))
    }

    @Test func withoutABudgetConcurrencyAloneBoundsTheItems() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 6, sizes: 1_000_000...1_000_000)
        try sandbox.writeLocalPipeline(concurrency: 4, fetchRate: "4MB")
        let run = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.status == 0)
        let events = PipelineProcess.events(in: run.output)
        #expect(mostItemsInFlight(events) == 4)
    }
}
}
