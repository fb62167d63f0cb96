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

    /// The most items inside each stage (between its stage_started and the end of that attempt).
    func mostItemsPerStage(_ events: [[String: Any]]) -> [String: Int] {
        var inside: [String: Set<String>] = [:], most: [String: Int] = [:]
        for event in events {
            guard let path = event["path"] as? String, let stage = event["stage"] as? String else { continue }
            if event.event("stage_started") {
                inside[stage, default: []].insert(path)
                most[stage] = max(most[stage] ?? 0, inside[stage]!.count)
            }
            if event.event("stage_done") || event.event("stage_retrying") || event.event("item_failed") || event.event("item_left")
                || event.event("item_skipped") {
                inside[stage]?.remove(path)
            }
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

    @Test func eachStageWorksOnItsConcurrencyAndStagesOverlap() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let originals = try sandbox.makeFiles(count: 8, sizes: 1_000_000...1_000_000)
        try sandbox.writeLocalPipeline(concurrency: 2, fetchRate: "4MB", uploadRate: "4MB")
        let run = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.status == 0, "\(run.error)")
        let events = PipelineProcess.events(in: run.output)
        let perStage = mostItemsPerStage(events)
        #expect(perStage["fetch"] == 2 && perStage["upload"] == 2, "each stage works on 2 at once: \(perStage)")
        #expect(perStage.values.allSatisfy { $0 <= 2 }, "\(perStage)")
        #expect(mostItemsInFlight(events) > 2, "later items are fetched while earlier ones upload")
        #expect(Set(sandbox.files(in: sandbox.destination).keys) == Set(originals))
    }

    @Test func aStagesOwnConcurrencyBoundsIt() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 6, sizes: 500_000...500_000)
        try sandbox.writeLocalPipeline(concurrency: 3, fetchRate: "2MB", uploadRate: "4MB")
        let text = try String(contentsOfFile: sandbox.pipelineFile, encoding: .utf8)
            .replacingOccurrences(of: "    uses: local-upload\n", with: "    uses: local-upload\n    concurrency: 1\n")
        try sandbox.writePipeline(text)
        let run = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.status == 0, "\(run.error)")
        let perStage = mostItemsPerStage(PipelineProcess.events(in: run.output))
        #expect(perStage["upload"] == 1 && perStage["fetch"] == 3, "\(perStage)")
    }
}
}
