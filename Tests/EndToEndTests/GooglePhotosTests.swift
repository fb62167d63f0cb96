import Foundation
import Testing

extension EndToEnd {
@Suite("Google Photos: resumable, duplicate-free uploads against the emulator")
struct GooglePhotosTests {
    static let environment = PhotosEmulator.environment

    /// local-list → local-fetch → google-photos pointed at `emulator` (`extra` adds `with:` keys).
    func writePipeline(_ sandbox: Sandbox, _ emulator: PhotosEmulator, extra: String = "", settings: String = "concurrency: 4",
                       retry: String = "{ attempts: 3, backoff: [0s] }") throws {
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: google-photos
                retry: \(retry)
                with: \(emulator.stageParameters(extra))
            """, settings: settings)
    }

    func run(_ sandbox: Sandbox) throws -> (status: Int32, output: String, error: String) {
        try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment, timeout: 300)
    }

    func start(_ sandbox: Sandbox) throws -> PipelineProcess {
        try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
    }

    /// A file of `size` random bytes under `src`.
    func randomFile(_ sandbox: Sandbox, _ relative: String, size: Int) throws {
        try Sandbox.writeRandomFile(at: sandbox.source + relative, size: size)
    }

    func sha1(_ path: String) -> String {
        (try? Command.digest("sha1sum", path)) ?? "?"
    }

    /// Media items in the emulator by file name.
    func itemsByName(_ emulator: PhotosEmulator) -> [String: [[String: Any]]] {
        Dictionary(grouping: emulator.mediaItems) { $0["filename"] as? String ?? "" }
    }

    func sessions(_ emulator: PhotosEmulator, named name: String) -> [[String: Any]] {
        emulator.sessions.filter { $0["file_name"] as? String == name }
    }

    /// Starts up to `runs` runs and kills each with SIGKILL `after` + a seeded random part of
    /// `spread` microseconds in, until one ends by itself; returns how many were killed.
    func killAtRandom(_ sandbox: Sandbox, seed: UInt64, runs: Int = 8, after: UInt64, spread: UInt64) throws -> Int {
        var generator = SplitMix(seed: seed)
        var kills = 0
        for _ in 0..<runs {
            let run = try start(sandbox)
            usleep(useconds_t(after + generator.next() % spread))
            guard run.isRunning else { break }
            run.signal(SIGKILL)
            run.wait()
            kills += 1
        }
        return kills
    }

    /// Every source file is in the emulator exactly once, with its bytes; no duplicates.
    func expectEveryFileOnce(_ sandbox: Sandbox, _ emulator: PhotosEmulator, _ files: [String],
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let byName = itemsByName(emulator)
        for file in files {
            let name = (file as NSString).lastPathComponent
            let items = byName[name] ?? []
            #expect(items.count == 1, "\(name) is in Google Photos \(items.count) times", sourceLocation: sourceLocation)
            #expect(items.first?["sha1"] as? String == sha1(sandbox.source + file), "\(name) arrived with other bytes", sourceLocation: sourceLocation)
        }
        #expect(emulator.mediaItems.count == files.count, sourceLocation: sourceLocation)
        #expect(emulator.duplicates.isEmpty, "duplicates: \(emulator.duplicates)", sourceLocation: sourceLocation)
    }

    // MARK: The happy path

    @Test func fortyPhotosAndVideosArriveIntactOnceInTheirAlbum() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        var files: [String] = []
        let awkward = ["beach [1].jpg", "été à Paris.JPG", "-dash.png", "with  two spaces.heic", "100% done.jpg", "#hash & more.webp"]
        for index in 0..<37 {
            let name = index < awkward.count ? awkward[index] : "IMG_\(1000 + index).jpg"
            files.append("/trip \(index % 5)/\(name)")
            try randomFile(sandbox, files.last!, size: 1000 + index * 40_000)
        }
        for (name, size) in [("clip one.mp4", 12_000_000), ("clip (two).mov", 40_000_000), ("long take.mkv", 300_000_000)] {
            files.append("/videos/\(name)")
            try randomFile(sandbox, files.last!, size: size)
        }
        try writePipeline(sandbox, emulator, extra: ", album: \"Summer 2024\", description: \"from {path}\"")
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")

        expectEveryFileOnce(sandbox, emulator, files)
        let stats = try emulator.stats()
        let albums = stats["albums"] as? [[String: Any]] ?? []
        #expect(albums.count == 1 && albums.first?["title"] as? String == "Summer 2024", "\(albums)")
        let albumID = albums.first?["id"] as? String
        #expect(emulator.mediaItems.allSatisfy { $0["album_id"] as? String == albumID })
        #expect(emulator.mediaItems.contains { $0["description"] as? String == "from /videos/clip one.mp4" })
        #expect(emulator.requests("batchCreate") < files.count, "items were not batched")
        #expect(emulator.requests("token") == 1, "the access token was not cached")

        let status = try sandbox.statusItems()
        for file in files {
            let outputs = status[file]?.stageOutputs("upload")
            let id = outputs?["media_item_id"] as? String
            #expect(id != nil && emulator.mediaItems.contains { $0["id"] as? String == id }, "\(file): \(String(describing: outputs))")
        }

        // Nothing secret anywhere: not in the output, the state, the emulator's own log.
        let state = (try? String(contentsOfFile: sandbox.statePath, encoding: .isoLatin1)) ?? ""
        for secret in [PhotosEmulator.clientSecret, PhotosEmulator.refreshToken] + emulator.accessTokens {
            #expect(!result.output.contains(secret) && !result.error.contains(secret) && !state.contains(secret), "a secret leaked")
        }
        #expect(!emulator.accessTokens.isEmpty)

        // A second run has nothing to do and uploads nothing.
        // Small files went in one request each (raw), the big ones resumably.
        #expect(emulator.requests("uploads.raw") == 38 && emulator.requests("uploads.start") == 2,
                "raw \(emulator.requests("uploads.raw")), resumable \(emulator.requests("uploads.start"))")
        let requestsBefore = emulator.requests("uploads.start") + emulator.requests("uploads.raw")
        #expect(try run(sandbox).status == 0)
        #expect(emulator.requests("uploads.start") + emulator.requests("uploads.raw") == requestsBefore)
    }

    @Test func aNameWithALineBreakArrivesAsItIsAndInjectsNoHeader() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let name = "evil\r\nX-Goog-Upload-Command: cancel\r\n.jpg"
        try randomFile(sandbox, "/" + name, size: 30_000)
        try writePipeline(sandbox, emulator)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error) \(result.output.suffix(500))")
        #expect(emulator.mediaItems.map { $0["filename"] as? String } == [name])
        #expect(emulator.requests("uploads.cancel") == 0)
    }

    @Test func aFullAlbumIsContinuedInTheNextOneAcrossRuns() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        for index in 0..<5 { try randomFile(sandbox, "/roll/frame \(index).jpg", size: 20_000) }
        try writePipeline(sandbox, emulator, extra: ", album: Roll, album_capacity: 2", settings: "concurrency: 2")
        #expect(try run(sandbox).status == 0)
        for index in 5..<7 { try randomFile(sandbox, "/roll/frame \(index).jpg", size: 20_000) }
        #expect(try run(sandbox).status == 0)

        let albums = (try emulator.stats()["albums"] as? [[String: Any]] ?? [])
            .map { ($0["title"] as? String ?? "", ($0["items"] as? [Any])?.count ?? 0) }
            .sorted { $0.0 < $1.0 }
        #expect(albums.map(\.0) == ["Roll", "Roll (2)", "Roll (3)", "Roll (4)"], "\(albums)")
        #expect(albums.map(\.1) == [2, 2, 2, 1], "\(albums)")
        #expect(emulator.mediaItems.count == 7 && emulator.duplicates.isEmpty)
    }

    // MARK: Resume

    @Test func aDroppedUploadIsResumedAtTheByteTheSessionHas() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let size = 150_000_000
        try randomFile(sandbox, "/big clip.mp4", size: size)
        try emulator.addFault(["kind": "drop_upload", "endpoint": "uploads.upload", "after_bytes": 60_000_000, "count": 1])
        try writePipeline(sandbox, emulator, extra: ", chunk_size: 1GiB")
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectEveryFileOnce(sandbox, emulator, ["/big clip.mp4"])
        let sessions = sessions(emulator, named: "big clip.mp4")
        #expect(sessions.count == 1, "the upload started a new session instead of resuming: \(sessions)")
        let total = sessions.first?["bytes_received_total"] as? Int ?? 0
        #expect(total >= size && total <= size + 262_144, "received \(total) bytes in all for a \(size)-byte file")
        #expect(emulator.requests("uploads.query") >= 1)
    }

    @Test func aSmallFileGoesInOneRequestAndIsSentAgainWhenDropped() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        try randomFile(sandbox, "/photo.jpg", size: 5_000_000)
        try emulator.addFault(["kind": "drop_upload", "endpoint": "uploads.raw", "after_bytes": 1_000_000, "count": 1])
        try writePipeline(sandbox, emulator)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectEveryFileOnce(sandbox, emulator, ["/photo.jpg"])
        #expect(emulator.requests("uploads.raw") == 2 && emulator.requests("uploads.start") == 0)
    }

    @Test func afterKill9DuringAnUploadTheNextRunResumesTheSession() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let size = 60_000_000
        try randomFile(sandbox, "/movie.mp4", size: size)
        try emulator.addFault(["kind": "slow", "endpoint": "uploads.upload", "delay": 0.1])
        try writePipeline(sandbox, emulator, extra: ", chunk_size: 2MiB")
        let first = try start(sandbox)
        let deadline = Date().addingTimeInterval(60)
        while (sessions(emulator, named: "movie.mp4").first?["received"] as? Int ?? 0) < 10_000_000, Date() < deadline, first.isRunning {
            usleep(100_000)
        }
        first.signal(SIGKILL)
        first.wait()
        let cut = sessions(emulator, named: "movie.mp4").first?["received"] as? Int ?? 0
        #expect(cut >= 10_000_000 && cut < size, "killed at \(cut)")

        try emulator.clearFaults()
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        expectEveryFileOnce(sandbox, emulator, ["/movie.mp4"])
        let sessions = sessions(emulator, named: "movie.mp4")
        #expect(sessions.count == 1, "a new session was started: \(sessions)")
        #expect((sessions.first?["bytes_received_total"] as? Int ?? 0) <= size + 2 * 1_048_576 * 2)
    }

    @Test func afterKill9DuringBatchCreateTheItemIsNotCreatedTwice() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = ["/a.jpg", "/b.jpg", "/c.png"]
        for file in files { try randomFile(sandbox, file, size: 300_000) }
        try emulator.addFault(["kind": "slow", "endpoint": "batchCreate", "delay": 2, "count": 1])
        try writePipeline(sandbox, emulator)
        let first = try start(sandbox)
        let deadline = Date().addingTimeInterval(30)
        while emulator.requests("batchCreate") < 1, Date() < deadline, first.isRunning { usleep(50_000) }
        usleep(300_000)
        first.signal(SIGKILL)
        first.wait()
        // The emulator finishes the call the killed run made: the items exist, the state does not know.
        let created = Date().addingTimeInterval(10)
        while emulator.mediaItems.count < 1, Date() < created { usleep(100_000) }
        #expect(emulator.mediaItems.count >= 1, "the batchCreate of the killed run never completed")

        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        expectEveryFileOnce(sandbox, emulator, files)
        #expect(emulator.sessions.count == files.count, "a file was uploaded again")
    }

    @Test func killedAgainAndAgainUntilDoneEveryFileArrivesExactlyOnce() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        var files: [String] = []
        for index in 0..<12 {
            files.append("/roll/frame \(index).\(index % 3 == 0 ? "mp4" : "jpg")")
            try randomFile(sandbox, files.last!, size: 800_000 + index * 150_000)
        }
        try emulator.addFault(["kind": "slow", "delay": 0.1])  // the job takes longer than three kills
        try writePipeline(sandbox, emulator, extra: ", chunk_size: 256KiB, raw_upload_limit: 0", settings: "concurrency: 3")
        let kills = try killAtRandom(sandbox, seed: 7, after: 300_000, spread: 1_200_000)
        #expect(kills >= 3, "the runs finished too soon to be killed")
        try emulator.clearFaults()
        let last = try run(sandbox)
        #expect(last.status == 0, "\(last.error)")
        expectEveryFileOnce(sandbox, emulator, files)
    }

    // MARK: Rate limits, errors, quota

    @Test func burstsOf503And429AreRiddenOutWithTheDocumentedWaits() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = ["/one.jpg", "/two.jpg"]
        for file in files { try randomFile(sandbox, file, size: 500_000) }
        try emulator.addFault(["kind": "status", "status": 503, "endpoint": "uploads.start", "count": 3])
        try emulator.addFault(["kind": "status", "status": 503, "endpoint": "uploads.upload", "retry_after": 1, "count": 1])
        try emulator.addFault(["kind": "rate_limit", "endpoint": "batchCreate", "count": 2])
        try emulator.addFault(["kind": "status", "status": 409, "endpoint": "batchCreate", "count": 1])
        try writePipeline(sandbox, emulator, extra: ", raw_upload_limit: 0", settings: "concurrency: 1")
        let began = Date()
        let result = try run(sandbox)
        let elapsed = Date().timeIntervalSince(began)
        #expect(result.status == 0, "\(result.error)")
        expectEveryFileOnce(sandbox, emulator, files)
        // Retry-After: 1 s; two 429s at ≥ 200 ms and ≥ 400 ms (rate_limit_wait doubling).
        #expect(elapsed >= 1.6, "the waits were not honoured (\(elapsed) s)")
        #expect(((try emulator.stats())["faults"] as? [Any])?.isEmpty == true, "not every fault was met")
    }

    @Test func theDailyQuotaStopsTheRunCleanlyAndTheNextRunFinishes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = (0..<5).map { "/day/photo \($0).jpg" }
        for file in files { try randomFile(sandbox, file, size: 200_000) }
        try emulator.addFault(["kind": "daily_quota"])
        try writePipeline(sandbox, emulator, settings: "concurrency: 2")
        let first = try run(sandbox)
        #expect(first.status == 75, "\(first.status) \(first.error)")
        #expect(first.output.contains("daily") && first.output.contains("quota"), "\(first.output.suffix(600))")
        let status = try sandbox.statusItems()
        #expect(status.values.allSatisfy { ($0["failures"] as? Int) == 0 }, "an item was counted as failed")
        #expect(emulator.mediaItems.isEmpty)

        try emulator.clearFaults()
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        expectEveryFileOnce(sandbox, emulator, files)
    }

    @Test func unsupportedAndOversizedFilesAreSkippedBeforeAnyByteIsSent() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        try randomFile(sandbox, "/notes.txt", size: 100)
        // Sparse: 201 MB of nothing costs no time to make.
        _ = FileManager.default.createFile(atPath: sandbox.source + "/huge.jpg", contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: sandbox.source + "/huge.jpg"))
        try handle.truncate(atOffset: 201_000_000)
        try handle.close()
        try writePipeline(sandbox, emulator)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        let status = try sandbox.statusItems()
        #expect(status["/notes.txt"]?["status"] as? String == "skipped")
        #expect((status["/notes.txt"]?["skip_reason"] as? String)?.contains(".txt") == true)
        let uploadRecord = status["/notes.txt"]?.stageRecord("upload")
        #expect(uploadRecord?["status"] as? String == "skipped", "the deciding stage still looks busy: \(String(describing: uploadRecord))")
        #expect(status["/huge.jpg"]?["status"] as? String == "skipped")
        #expect((status["/huge.jpg"]?["skip_reason"] as? String)?.contains("limit") == true)
        #expect(emulator.requests("uploads.start") + emulator.requests("uploads.raw") == 0, "bytes were sent")
    }

    @Test("a per-item refusal or a missing media item fails the item, never marks it done", arguments: [
        #"{"kind": "item_status", "code": 3, "message": "NOT_IMAGE: There was an error while trying to create this media item."}"#,
        #"{"kind": "omit_media_item"}"#,
    ])
    func aRefusedItemFails(faultJSON: String) throws {
        let fault = try JSONSerialization.jsonObject(with: Data(faultJSON.utf8)) as? [String: Any] ?? [:]
        let sandbox = try Sandbox("refused-\(fault["kind"] ?? "")")
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        try randomFile(sandbox, "/odd.jpg", size: 10_000)
        try emulator.addFault(fault)
        try writePipeline(sandbox, emulator)
        let result = try run(sandbox)
        #expect(result.status == 1, "\(result.error)")
        let item = try sandbox.statusItems()["/odd.jpg"]
        #expect(item?["status"] as? String == "failed")
        if fault["kind"] as? String == "item_status" {
            #expect((item?["last_error"] as? String)?.contains("NOT_IMAGE") == true, "\(String(describing: item))")
        }
    }

    // MARK: Authorisation

    @Test func anExpiredAccessTokenIsRefreshedAndARevokedGrantStopsTheRun() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        try randomFile(sandbox, "/first.mp4", size: 20_000_000)
        try emulator.addFault(["kind": "slow", "endpoint": "uploads.upload", "delay": 0.2])
        try writePipeline(sandbox, emulator, extra: ", chunk_size: 1MiB")
        let run1 = try start(sandbox)
        let deadline = Date().addingTimeInterval(30)
        while (sessions(emulator, named: "first.mp4").first?["received"] as? Int ?? 0) < 3_000_000, Date() < deadline, run1.isRunning {
            usleep(50_000)
        }
        try emulator.expireAccessTokens()
        #expect(run1.wait() == 0, "\(run1.stderr)")
        #expect(emulator.requests("token") >= 2, "the expired token was not refreshed")
        expectEveryFileOnce(sandbox, emulator, ["/first.mp4"])

        try emulator.clearFaults()
        try emulator.revokeRefreshToken()
        try emulator.expireAccessTokens()
        try randomFile(sandbox, "/second.jpg", size: 10_000)
        let run2 = try run(sandbox)
        #expect(run2.status == 77, "\(run2.status) \(run2.error)")
        #expect(run2.output.contains("Re-authorise"), "\(run2.output.suffix(800))")
        let item = try sandbox.statusItems()["/second.jpg"]
        #expect(item?["status"] as? String != "failed" && (item?["failures"] as? Int) == 0)
        for secret in [PhotosEmulator.clientSecret, PhotosEmulator.refreshToken] + emulator.accessTokens {
            #expect(!run2.output.contains(secret) && !run2.error.contains(secret), "a secret leaked")
        }
    }
}
}
