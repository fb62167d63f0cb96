import Foundation
import Testing

/// The heart of the project: a run can die at any moment and the next one loses nothing.
extension EndToEnd {
@Suite("Crash and resume")
struct CrashRecoveryTests {
    @Test func killedDuringEveryStageAndBetweenTransitionsLosesNothing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let originals = try sandbox.makeFiles(count: 30, sizes: 200_000...900_000)
        try sandbox.writeLocalPipeline(concurrency: 4, fetchRate: "2MB", verifyRate: "4MB", uploadRate: "2MB")

        // Where each run is killed: inside each stage in turn, and right after a transition.
        let killPoints: [(event: String, stage: String, occurrence: Int, delay: UInt32)] = [
            ("stage_started", "fetch", 2, 60_000),
            ("stage_started", "verify", 2, 40_000),
            ("stage_started", "upload", 2, 60_000),
            ("stage_started", "cleanup", 1, 0),
            ("stage_done", "fetch", 2, 0),
            ("stage_done", "upload", 1, 0),
            ("item_completed", "", 1, 0),
        ]
        // The sizes each cut item's work file had after a kill: its `%partial` file, or the whole
        // copy when the kill fell between the rename and the record of the fetch being done.
        var sizesLeft: [String: Set<Int>] = [:]
        for point in killPoints {
            let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
            let reached = run.waitForEvents(count: point.occurrence) { $0.event(point.event, stage: point.stage.isEmpty ? nil : point.stage) }
            #expect(reached, "never saw \(point.event) \(point.stage): \(run.lines.suffix(5)) \(run.stderr)")
            usleep(point.delay)
            run.signal(SIGKILL)
            #expect(run.wait() == 128 + SIGKILL)
            for (path, data) in sandbox.files(in: sandbox.workdir) {
                let item = path.hasSuffix("%partial") ? String(path.dropLast("%partial".count)) : path
                if path.hasSuffix("%partial") || sizesLeft[item] != nil { sizesLeft[item, default: []].insert(data.count) }
            }
        }
        #expect(!sizesLeft.isEmpty, "no fetch was cut mid-way, so resuming was not exercised")

        var finalStatus: Int32 = -1
        for _ in 0..<3 where finalStatus != 0 {
            finalStatus = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root).status
        }
        #expect(finalStatus == 0)

        let sources = sandbox.files(in: sandbox.source)
        let delivered = sandbox.files(in: sandbox.destination)
        #expect(Set(delivered.keys) == Set(originals), "extra or missing files at the destination")
        for path in originals { #expect(delivered[path] == sources[path], "\(path) differs") }

        let status = try sandbox.status()
        #expect((status["summary"] as? [String: Any])?["completed"] as? Int == 30)
        let items = try sandbox.statusItems()
        for (path, sizes) in sizesLeft {
            let outputs = items[path]?.stageOutputs("fetch")
            let size = sources[path]?.count ?? -1
            // The fetch that finished resumed exactly where a kill left the work file, and copied
            // the rest: every byte copied once.
            let resumedAt = outputs?["resumed_at"] as? Int ?? -1
            #expect(sizes.contains(resumedAt), "\(path): resumed at \(resumedAt), kills left \(sizes.sorted())")
            #expect(resumedAt + (outputs?["copied"] as? Int ?? 0) == size, "\(path): \(String(describing: outputs))")
        }
        #expect(sandbox.files(in: sandbox.workdir).isEmpty, "cleanup left files in the work directory")
    }

    @Test func aFreshRunnerRefetchesWhatWasNotUploadedAndLeavesCompletedFilesAlone() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let originals = try sandbox.makeFiles(count: 8, sizes: 300_000...500_000)
        try sandbox.writeLocalPipeline(concurrency: 3, uploadRate: "1MB")

        let first = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(first.waitForEvents(count: 2) { $0.event("item_completed") })
        #expect(first.waitForEvents(count: 4) { $0.event("stage_done", stage: "fetch") })
        first.signal(SIGKILL)
        first.wait()
        let completedFirst = Set(first.events.filter { $0.event("item_completed") }.compactMap { $0["path"] as? String })
        let uploadedFirst = Set(first.events.filter { $0.event("stage_done", stage: "upload") }.compactMap { $0["path"] as? String })
        let fetchedOnly = Set(first.events.filter { $0.event("stage_done", stage: "fetch") }.compactMap { $0["path"] as? String })
            .subtracting(uploadedFirst)
        #expect(!fetchedOnly.isEmpty, "the kill left no item fetched but not uploaded")
        let before = try completedFirst.map { path in
            (path, try FileManager.default.attributesOfItem(atPath: sandbox.destination + path)[.modificationDate] as? Date)
        }

        // A new CI runner: the state came along as an artifact, the work directory did not.
        try FileManager.default.removeItem(atPath: sandbox.workdir)
        let second = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(second.wait() == 0, "\(second.stderr)")

        let refetched = Set(second.events.filter { $0.event("stage_started", stage: "fetch") }.compactMap { $0["path"] as? String })
        #expect(fetchedOnly.isSubset(of: refetched))
        #expect(refetched.isDisjoint(with: completedFirst), "a completed file was fetched again")
        let uploadsSecond = second.events.filter { $0.event("stage_done", stage: "upload") }.compactMap { $0["path"] as? String }
        #expect(Set(uploadsSecond).isDisjoint(with: uploadedFirst), "an uploaded file was uploaded again")
        #expect(uploadsSecond.count == Set(uploadsSecond).count)
        for (path, modified) in before {
            let now = try FileManager.default.attributesOfItem(atPath: sandbox.destination + path)[.modificationDate] as? Date
            #expect(now == modified, "\(path) was touched again")
        }
        let sources = sandbox.files(in: sandbox.source), delivered = sandbox.files(in: sandbox.destination)
        #expect(Set(delivered.keys) == Set(originals))
        for path in originals { #expect(delivered[path] == sources[path]) }
    }
}
}
