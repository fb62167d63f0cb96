import Foundation
import PostgresTestServer
import Testing

/// The google-photos stage with several `pipeline run` processes on one PostgreSQL state, against
/// the emulator: one batch to an album at a time across runners, and one daily quota for all.
@Suite("Google Photos with runners sharing one PostgreSQL state", .serialized)
struct GooglePhotosSharedStateTests {
    let photos = EndToEnd.GooglePhotosTests()

    /// local-list → local-fetch → google-photos, every runner on the shared state `url`.
    func writePipeline(_ sandbox: Sandbox, _ emulator: PhotosEmulator, extra: String = "") throws {
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: google-photos
                retry: { attempts: 5, backoff: [0s] }
                with: \(emulator.stageParameters(extra))
            """, settings: "concurrency: 4\nlease: 3s")
    }

    func runner(_ number: Int, _ sandbox: Sandbox, _ state: (url: String, environment: [String: String])) throws -> PipelineProcess {
        try PipelineProcess(["run", "pipeline.yml", "--state", state.url, "--workdir", "work-\(number)", "--log-format", "json"],
                            in: sandbox.root, environment: state.environment.merging(PhotosEmulator.environment) { _, new in new })
    }

    /// Every Library API request the emulator received (OAuth's token endpoint is another service).
    func libraryRequests(_ emulator: PhotosEmulator) -> Int {
        let counts = (try? emulator.stats())?["requests"] as? [String: Any] ?? [:]
        return counts.filter { !["token", "authorize"].contains($0.key) }.values.compactMap { $0 as? Int }.reduce(0, +)
    }

    /// Each media item is in its album exactly once, and the album holds nothing else.
    func expectEachInTheAlbumOnce(_ emulator: PhotosEmulator, title: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let albums = emulator.liveAlbums(titled: title)
        #expect(albums.count == 1, "albums titled '\(title)': \(albums.count)", sourceLocation: sourceLocation)
        let inAlbum = albums.flatMap { $0["items"] as? [String] ?? [] }
        #expect(inAlbum.count == Set(inAlbum).count, "an item is in the album twice", sourceLocation: sourceLocation)
        #expect(Set(inAlbum) == Set(emulator.mediaItems.compactMap { $0["id"] as? String }), sourceLocation: sourceLocation)
    }

    @Test func twoRunnersOnOneJobMakeEveryFileOneMediaItemThroughLostAnswersAndAKill() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let state = try SharedStateRunnerTests.sharedState()
        let files = try sandbox.makeFiles(count: 120, sizes: 1000...20_000, folders: 6)
        // Slow batches overlap between the runners; lost answers make each settle what the album shows.
        try emulator.addFault(["kind": "slow", "endpoint": "batchCreate", "delay": 0.3])
        try emulator.addFault(["kind": "lose_answer", "endpoint": "batchCreate", "count": 30])
        try writePipeline(sandbox, emulator, extra: ", album: Shared, batch_wait: 100ms")

        var runners = try (0..<2).map { try runner($0, sandbox, state) }
        // One runner dies by kill -9 once items are arriving, and another takes its place.
        #expect(runners[0].waitForEvents(count: 10, timeout: 180) { $0["event"] as? String == "item_completed" })
        runners[0].signal(SIGKILL)
        #expect(runners[0].wait() == 128 + SIGKILL)
        var finished = [runners[0]]
        var started = 2
        runners[0] = try runner(started, sandbox, state)
        started += 1

        // Runners end when nothing is left to claim; new ones start while any work is left.
        for round in 0..<10 {
            let statuses = runners.map { $0.wait(timeout: 300) }
            finished += runners
            if statuses.allSatisfy({ $0 == 0 }) { break }
            #expect(round < 9, "work was still left after 10 rounds of runners: \(statuses)")
            runners = try (0..<2).map { try runner(started + $0, sandbox, state) }
            started += 2
        }

        photos.expectEveryFileOnce(sandbox, emulator, files)
        expectEachInTheAlbumOnce(emulator, title: "Shared")
        let faults = (try? emulator.stats())?["faults"] as? [[String: Any]] ?? []
        let lostLeft = faults.first { $0["kind"] as? String == "lose_answer" }?["count"] as? Int ?? 0
        #expect(lostLeft <= 27, "fewer than 3 batchCreate answers were lost: nothing had to be reconciled")
        // The media items came from several processes (a runner that finds every item held by
        // others ends at once, so which ones varies).
        let creators = finished.filter { runner in
            runner.events.contains { $0["event"] as? String == "stage_done" && $0["stage"] as? String == "upload" }
        }
        #expect(creators.count >= 2, "only \(creators.count) runner created media items")
    }

    @Test func runnersSharingAStateStopTogetherAtTheSharedDailyQuota() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let state = try SharedStateRunnerTests.sharedState()
        let files = try sandbox.makeFiles(count: 300, sizes: 1000...5000, folders: 3)
        let limit = 30
        try writePipeline(sandbox, emulator, extra: ", daily_requests: \(limit)")
        // Slow uploads: the limit is reached while both runners are at work.
        try emulator.addFault(["kind": "slow", "endpoint": "uploads.raw", "delay": 0.3])

        let runners = try (0..<2).map { try runner($0, sandbox, state) }
        let statuses = runners.map { $0.wait(timeout: 300) }

        // Together they sent no more than the limit, and both stopped for the quota.
        let sent = libraryRequests(emulator)
        #expect(sent <= limit, "the runners sent \(sent) Library API requests with daily_requests: \(limit)")
        #expect(sent >= limit - 2, "the runners stopped early: \(sent) of \(limit) requests")
        #expect(statuses == [75, 75], "\(statuses)")
        for runner in runners {
            let output = runner.lines.joined(separator: "\n") + runner.stderr
            #expect(output.contains("daily quota of \(limit) Google Photos Library API requests"), "\(output.suffix(800))")
            #expect(output.contains("midnight Pacific time"))
            #expect(runner.events.contains { $0["event"] as? String == "stage_started" && $0["stage"] as? String == "upload" },
                    "a runner stopped without having sent anything")
        }
        #expect(emulator.mediaItems.count < files.count)

        // A third runner the same day stops at once, sending nothing.
        let third = try runner(2, sandbox, state)
        #expect(third.wait(timeout: 120) == 75)
        #expect(libraryRequests(emulator) == sent, "the third runner sent requests past the spent quota")
        #expect((third.lines.joined(separator: "\n") + third.stderr).contains("used up"))
    }
}
