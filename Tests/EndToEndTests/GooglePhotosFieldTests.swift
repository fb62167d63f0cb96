import Foundation
import Testing

extension EndToEnd {
/// What the real Library API does that the happy path hides (shared/reference/google-photos-api.md,
/// "What the real service does"): answers lost after Google committed, errors about the whole run,
/// batches refused whole, albums gone, a state that is not the latest. Each against the emulator,
/// with `kill -9` where it matters; the promise is the same every time: every file exactly once.
@Suite("Google Photos in the field: lost answers, run-level errors, stale states")
struct GooglePhotosFieldTests {
    let photos = GooglePhotosTests()
    static let album = "Field"

    func setUp(files count: Int, size: Int = 200_000, names: (Int) -> String = { "/f\($0 % 3)/IMG_\(String(format: "%04d", $0)).jpg" })
        throws -> (Sandbox, PhotosEmulator, [String]) {
        let sandbox = try Sandbox()
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let files = (0..<count).map(names)
        for file in files { try photos.randomFile(sandbox, file, size: size) }
        return (sandbox, emulator, files)
    }

    func writePipeline(_ sandbox: Sandbox, _ emulator: PhotosEmulator, extra: String = "", concurrency: Int = 4) throws {
        try photos.writePipeline(sandbox, emulator, extra: ", album: \(Self.album)" + extra, settings: "concurrency: \(concurrency)")
    }

    /// Every file once, with its bytes, in one live album of the title; nothing twice.
    func expectExact(_ sandbox: Sandbox, _ emulator: PhotosEmulator, _ files: [String], seeded: Int = 0,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        let created = emulator.mediaItems.filter { $0["sha1"] is String }
        let byName = Dictionary(grouping: created) { $0["filename"] as? String ?? "" }
        for file in files {
            let name = (file as NSString).lastPathComponent
            let items = byName[name] ?? []
            #expect(items.count == 1, "\(name) is in Google Photos \(items.count) times", sourceLocation: sourceLocation)
            #expect(items.first?["sha1"] as? String == photos.sha1(sandbox.source + file), "\(name) has other bytes", sourceLocation: sourceLocation)
        }
        #expect(created.count == files.count, "\(created.count) media items for \(files.count) files", sourceLocation: sourceLocation)
        #expect(emulator.mediaItems.count == files.count + seeded, sourceLocation: sourceLocation)
        #expect(emulator.duplicates.isEmpty, "duplicates: \(emulator.duplicates)", sourceLocation: sourceLocation)
        let albums = emulator.liveAlbums(titled: Self.album)
        #expect(albums.count == 1, "albums titled \(Self.album): \(albums)", sourceLocation: sourceLocation)
        // And each item recorded in the state is the one made of its own bytes.
        let recorded = (try? sandbox.statusItems()) ?? [:]
        let idsByName = Dictionary(grouping: created) { $0["filename"] as? String ?? "" }.mapValues { $0.compactMap { $0["id"] as? String } }
        for file in files {
            let id = recorded[file]?.stageOutputs("upload")["media_item_id"] as? String
            #expect(id != nil && idsByName[(file as NSString).lastPathComponent]?.contains(id!) == true,
                    "\(file) is recorded as \(id ?? "nothing"), not as the item made of its bytes", sourceLocation: sourceLocation)
        }
    }

    /// Rewrites the upload stage's checkpoints in the state file (as a damaged, old or hostile
    /// state would have them): `change` is Python acting on `value`, each checkpoint as a dict.
    func editUploadCheckpoints(_ sandbox: Sandbox, _ change: String, firstOnly: Bool = false) throws {
        try Command.output(["python3", "-c", """
            import sqlite3, sys, json, time
            db = sqlite3.connect(sys.argv[1])
            rows = db.execute("SELECT path, checkpoint FROM stages WHERE stage = 'upload' AND checkpoint IS NOT NULL ORDER BY path").fetchall()
            # firstOnly: the first item that holds an upload token.
            for path, checkpoint in [row for row in rows if "upload_token" in row[1]][:1] if sys.argv[2] == "1" else rows:
                value = json.loads(checkpoint)
                \(change)
                db.execute("UPDATE stages SET checkpoint = ? WHERE path = ? AND stage = 'upload'", (json.dumps(value), path))
            db.commit()
            """, sandbox.statePath, firstOnly ? "1" : "0"])
    }

    /// Older items of the same names that this app made in earlier jobs (outside the album).
    func seedNamesakes(_ emulator: PhotosEmulator, _ files: [String]) throws -> Int {
        let names = files.prefix(5).map { ($0 as NSString).lastPathComponent }
        try emulator.seed(names.map { ["filename": $0, "creation_time": "2030-01-01T00:00:00Z", "size": 10] })
        return names.count
    }

    // MARK: Answers lost after Google committed

    @Test("a batchCreate that commits and loses its answer is settled from the album, not uploaded again", arguments: [
        #"{"kind": "lose_answer", "endpoint": "batchCreate", "count": 1}"#,
        #"{"kind": "lose_answer", "endpoint": "batchCreate", "count": 1, "status": 503}"#,
        #"{"kind": "lose_answer", "endpoint": "batchCreate", "count": 1, "status": 409}"#,
    ])
    func aLostBatchCreateAnswerIsSettledFromTheAlbum(fault: String) throws {
        let (sandbox, emulator, files) = try setUp(files: 8)
        defer { sandbox.remove() }
        let seeded = try seedNamesakes(emulator, files)
        try emulator.setOptions(["used_token_answer": "top_level"])
        try emulator.addFault(try JSONSerialization.jsonObject(with: Data(fault.utf8)) as! [String: Any])
        try writePipeline(sandbox, emulator)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files, seeded: seeded)
        #expect(emulator.sessions.count == files.count, "a file was uploaded again")
    }

    @Test("albums.create that commits and loses its answer makes one album", arguments: [
        #"{"kind": "lose_answer", "endpoint": "albums", "count": 1}"#,
        #"{"kind": "lose_answer", "endpoint": "albums", "count": 1, "status": 500}"#,
    ])
    func aLostAlbumAnswerMakesOneAlbum(fault: String) throws {
        let (sandbox, emulator, files) = try setUp(files: 4)
        defer { sandbox.remove() }
        try emulator.addFault(try JSONSerialization.jsonObject(with: Data(fault.utf8)) as! [String: Any])
        try writePipeline(sandbox, emulator)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files)
        #expect(emulator.albums.count == 1, "\(emulator.albums)")
    }

    @Test func aFinalizeThatCommitsAndLosesItsAnswerCostsNoSecondUpload() throws {
        let size = 3_000_000
        let (sandbox, emulator, files) = try setUp(files: 1, size: size, names: { _ in "/clip.mp4" })
        defer { sandbox.remove() }
        try emulator.addFault(["kind": "lose_answer", "endpoint": "uploads.upload", "count": 1])
        try writePipeline(sandbox, emulator, extra: ", raw_upload_limit: 0")
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files)
        let sent = (try emulator.stats()["bytes_received"] as? Int) ?? 0
        #expect(Double(sent) <= 1.05 * Double(size), "\(sent) bytes sent for a \(size)-byte file")
    }

    // MARK: kill -9

    /// kill -9 while a 50-item batchCreate is in flight; Google commits it. The next run settles
    /// all 50 from the album in a handful of requests, uploads nothing and creates nothing again —
    /// also when it comes more than a day later (the tokens are long expired by then).
    @Test(arguments: [false, true])
    func aCrashInAFiftyItemBatchIsSettledInAHandfulOfRequests(dayLater: Bool) throws {
        let (sandbox, emulator, files) = try setUp(files: 50, size: 20_000)
        defer { sandbox.remove() }
        let seeded = try seedNamesakes(emulator, files)
        try emulator.addFault(["kind": "slow", "endpoint": "batchCreate", "delay": 3, "count": 1])
        try writePipeline(sandbox, emulator, extra: ", batch_wait: 30s", concurrency: 50)
        let first = try photos.start(sandbox)
        let deadline = Date().addingTimeInterval(60)
        while emulator.requests("batchCreate") < 1, Date() < deadline, first.isRunning { usleep(50_000) }
        #expect(first.isRunning, "the first run ended before its batchCreate: \(first.lines.suffix(8)) \(first.stderr)")
        usleep(500_000)
        first.signal(SIGKILL)
        first.wait()
        let committed = Date().addingTimeInterval(10)
        while emulator.mediaItems.count < files.count + seeded, Date() < committed { usleep(100_000) }
        #expect(emulator.mediaItems.count == files.count + seeded, "the killed run's batchCreate did not commit 50 items")
        if dayLater {
            try emulator.expireUploadTokens()
            try editUploadCheckpoints(sandbox, #"value["token_received"] = time.time() - 2 * 86400"#)
        }
        let before = try emulator.stats()["requests"] as? [String: Int] ?? [:]
        let second = try photos.run(sandbox)
        #expect(second.status == 0, "\(second.output.suffix(1500)) \(second.error)")
        let after = try emulator.stats()["requests"] as? [String: Int] ?? [:]
        func spent(_ endpoint: String) -> Int { (after[endpoint] ?? 0) - (before[endpoint] ?? 0) }
        let reconciling = ["mediaItems.search", "mediaItems.list", "albums.list", "albums.get", "mediaItems.get"].map(spent).reduce(0, +)
        #expect(reconciling <= 3, "settling one lost batch of 50 cost \(reconciling) requests")
        #expect(spent("batchCreate") == 0 && spent("uploads.raw") + spent("uploads.start") == 0, "\(after)")
        expectExact(sandbox, emulator, files, seeded: seeded)
    }

    /// Every fault at once, and kill -9 at random moments until the job is done.
    @Test func killedAgainAndAgainWhileGoogleLosesAnswersEveryFileArrivesOnce() throws {
        let (sandbox, emulator, files) = try setUp(files: 14, size: 400_000)
        defer { sandbox.remove() }
        let seeded = try seedNamesakes(emulator, files)
        try emulator.setOptions(["used_token_answer": "top_level"])
        for fault: [String: Any] in [
            ["kind": "slow", "delay": 0.1],
            ["kind": "lose_answer", "endpoint": "batchCreate", "count": 3, "status": 503],
            ["kind": "lose_answer", "endpoint": "batchCreate", "count": 2],
            ["kind": "lose_answer", "endpoint": "albums", "count": 1],
            ["kind": "lose_answer", "endpoint": "uploads.upload", "count": 3],
            ["kind": "item_status", "code": 13, "count": 2],
            ["kind": "uploads_per_minute", "count": 2],
        ] { try emulator.addFault(fault) }
        try writePipeline(sandbox, emulator, extra: ", chunk_size: 256KiB, raw_upload_limit: 300KB", concurrency: 3)
        let kills = try photos.killAtRandom(sandbox, seed: 10, after: 400_000, spread: 1_400_000)
        #expect(kills >= 3, "the runs finished too soon to be killed")
        var last = try photos.run(sandbox)
        if last.status != 0 { last = try photos.run(sandbox) }  // items a kill left mid-retry
        #expect(last.status == 0, "\(last.error)")
        expectExact(sandbox, emulator, files, seeded: seeded)
    }

    // MARK: Batches

    @Test func aBatchRefusedWholeForOneBadTokenIsSplitAndTheOthersGoThrough() throws {
        let (sandbox, emulator, files) = try setUp(files: 6)
        defer { sandbox.remove() }
        try emulator.setOptions(["used_token_answer": "top_level"])
        // First run: every item uploads, then batchCreate is refused; the tokens stay in the state.
        try emulator.addFault(["kind": "status", "endpoint": "batchCreate", "status": 400, "message": "Invalid JSON payload."])
        try writePipeline(sandbox, emulator)
        _ = try photos.run(sandbox)
        try emulator.clearFaults()
        // One token goes bad (as a used or expired one would).
        try editUploadCheckpoints(sandbox, #"value["upload_token"] = "not-a-token"; value.pop("create_sent", None)"#, firstOnly: true)
        _ = try PipelineProcess.run(["retry", "--all-failed", "--state", sandbox.statePath], in: sandbox.root)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files)
    }

    @Test func aTransientPerItemStatus13IsRetriedInTheSameRun() throws {
        let (sandbox, emulator, files) = try setUp(files: 3)
        defer { sandbox.remove() }
        try emulator.addFault(["kind": "item_status", "code": 13, "count": 2])
        try writePipeline(sandbox, emulator)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files)
        #expect(emulator.sessions.count == files.count, "a status 13 made a file upload again")
    }

    // MARK: Errors about the run, not the item

    @Test func aMissingReadScopeStopsTheRunWithExit77AndNamesTheScope() throws {
        let (sandbox, emulator, _) = try setUp(files: 3)
        defer { sandbox.remove() }
        try emulator.setOptions(["scopes": ["photoslibrary.appendonly"]])
        try writePipeline(sandbox, emulator)
        let result = try photos.run(sandbox)
        #expect(result.status == 77, "\(result.output)")
        #expect(result.output.contains("photoslibrary.readonly.appcreateddata"), "\(result.output)")
        let items = try sandbox.statusItems()
        #expect(items.values.allSatisfy { ($0["failures"] as? Int ?? 0) == 0 }, "items were counted as failed: \(items)")
    }

    @Test func anUploadWithoutTheAppendScopeStopsTheRunWithExit77() throws {
        let (sandbox, emulator, _) = try setUp(files: 3)
        defer { sandbox.remove() }
        try emulator.setOptions(["scopes": ["photoslibrary.readonly.appcreateddata"]])
        try photos.writePipeline(sandbox, emulator, extra: ", album: \"\"")
        let result = try photos.run(sandbox)
        #expect(result.status == 77, "\(result.output)")
        #expect(result.output.contains("photoslibrary.appendonly"), "\(result.output)")
        #expect(emulator.mediaItems.isEmpty)
        #expect(try sandbox.statusItems().values.allSatisfy { ($0["failures"] as? Int ?? 0) == 0 })
    }

    @Test func aFullAccountStopsTheRunWithExit69AndTheNextRunFinishesOnceThereIsSpace() throws {
        let (sandbox, emulator, files) = try setUp(files: 6, size: 100_000)
        defer { sandbox.remove() }
        try emulator.setOptions(["storage_bytes": 250_000])
        try writePipeline(sandbox, emulator, concurrency: 1)
        let full = try photos.run(sandbox)
        #expect(full.status == 69, "\(full.output)")
        #expect(full.output.contains("storage is full"), "\(full.output)")
        #expect(try sandbox.statusItems().values.allSatisfy { ($0["failures"] as? Int ?? 0) == 0 })
        try emulator.setOptions(["storage_bytes": NSNull()])
        let next = try photos.run(sandbox)
        #expect(next.status == 0, "\(next.error)")
        expectExact(sandbox, emulator, files)
    }

    @Test func anUploadRateLimitAnsweredAs400IsAWaitNotAFailure() throws {
        let (sandbox, emulator, files) = try setUp(files: 3)
        defer { sandbox.remove() }
        try emulator.addFault(["kind": "uploads_per_minute", "count": 2])
        try writePipeline(sandbox, emulator)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files)
    }

    @Test func aDeletedAlbumIsReplacedOnceAndTheJobGoesOn() throws {
        let (sandbox, emulator, files) = try setUp(files: 6)
        defer { sandbox.remove() }
        for file in files[3...] { try FileManager.default.moveItem(atPath: sandbox.source + file, toPath: sandbox.root + "/later-" + (file as NSString).lastPathComponent) }
        try writePipeline(sandbox, emulator)
        #expect(try photos.run(sandbox).status == 0)
        let first = try #require(emulator.liveAlbums(titled: Self.album).first?["id"] as? String)
        try emulator.deleteAlbum(first)
        for file in files[3...] { try FileManager.default.moveItem(atPath: sandbox.root + "/later-" + (file as NSString).lastPathComponent, toPath: sandbox.source + file) }
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        let live = emulator.liveAlbums(titled: Self.album)
        #expect(live.count == 1 && live.first?["id"] as? String != first, "\(emulator.albums)")
        #expect((live.first?["items"] as? [String])?.count == 3, "\(live)")
        #expect(emulator.mediaItems.count == files.count && emulator.duplicates.isEmpty)
    }

    // MARK: A state that is not the latest

    @Test func aLostStateIsRefusedWithExit78UnlessFreshIsSaid() throws {
        let (sandbox, emulator, files) = try setUp(files: 3)
        defer { sandbox.remove() }
        try writePipeline(sandbox, emulator)
        #expect(try photos.run(sandbox).status == 0)
        try FileManager.default.removeItem(atPath: sandbox.statePath)
        let refused = try photos.run(sandbox)
        #expect(refused.status == 78, "\(refused.output)")
        #expect(refused.output.contains("--fresh") && refused.output.contains("Restore the latest state"), "\(refused.output)")
        #expect(emulator.mediaItems.count == files.count, "a file was uploaded again")
        let fresh = try PipelineProcess.run(["run", "pipeline.yml", "--fresh", "--log-format", "json"], in: sandbox.root,
                                            environment: GooglePhotosTests.environment, timeout: 300)
        #expect(fresh.status == 0, "\(fresh.error)")
        #expect(emulator.mediaItems.count == 2 * files.count, "--fresh accepts the duplicates")
        #expect(emulator.liveAlbums(titled: Self.album).count == 1)
    }

    /// A lost state rebuilt from the album: what is there is never uploaded again (names that
    /// repeat included), what is ambiguous waits for a person, what is new goes up.
    @Test func aLostStateRebuiltFromTheAlbumUploadsOnlyWhatIsNotThere() throws {
        let (sandbox, emulator, _) = try setUp(files: 0)
        defer { sandbox.remove() }
        let first = ["/a/IMG_1.jpg", "/b/IMG_1.jpg", "/c/x.jpg", "/c/IMG_2.jpg"]
        for file in first { try photos.randomFile(sandbox, file, size: 50_000) }
        try writePipeline(sandbox, emulator)
        #expect(try photos.run(sandbox).status == 0)
        try FileManager.default.removeItem(atPath: sandbox.statePath)
        // Since then: a new file, and two more named like one already uploaded.
        let later = ["/d/new.jpg", "/d/IMG_2.jpg", "/e/IMG_2.jpg"]
        for file in later { try photos.randomFile(sandbox, file, size: 50_000) }

        let refused = try photos.run(sandbox)
        #expect(refused.status == 78 && refused.output.contains("pipeline state rebuild"), "\(refused.output)")
        let rebuilt = try PipelineProcess.run(["state", "rebuild", "pipeline.yml"], in: sandbox.root, environment: GooglePhotosTests.environment)
        #expect(rebuilt.status == 0, "\(rebuilt.error)")
        #expect(rebuilt.output.contains("3 completed, 1 not there yet (the next run uploads them), 3 ambiguous"), "\(rebuilt.output)")

        let next = try photos.run(sandbox)
        #expect(next.status == 0, "\(next.error)")
        let names = emulator.mediaItems.compactMap { $0["filename"] as? String }.sorted()
        #expect(names == ["IMG_1.jpg", "IMG_1.jpg", "IMG_2.jpg", "new.jpg", "x.jpg"], "only new.jpg was uploaded: \(names)")
        #expect(emulator.liveAlbums(titled: Self.album).count == 1 && emulator.duplicates.isEmpty)
        let items = try sandbox.statusItems()
        #expect(["/d/IMG_2.jpg", "/e/IMG_2.jpg", "/c/IMG_2.jpg"].allSatisfy { items[$0]?["status"] as? String == "skipped" }, "\(items)")
        #expect((items["/c/x.jpg"]?.stageOutputs("upload")["rebuilt"] as? Bool) == true)
    }

    @Test func anEmptyAlbumLeftByALostStateIsUsedWithoutComplaint() throws {
        let (sandbox, emulator, files) = try setUp(files: 2)
        defer { sandbox.remove() }
        try Command.output(["curl", "-sS", "--fail", "-X", "POST", emulator.base + "/_emulator/albums", "-H", "Content-Type: application/json",
                            "--data-binary", #"{"title": "\#(Self.album)"}"#])
        try writePipeline(sandbox, emulator)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        expectExact(sandbox, emulator, files)
        #expect(emulator.albums.count == 1)
    }

    // MARK: Where the token and the bytes may go

    @Test func aSessionURLFromTheStateIsUsedOnlyOnTheAPIHost() throws {
        let (sandbox, emulator, files) = try setUp(files: 1, size: 1_000_000, names: { _ in "/big.mp4" })
        defer { sandbox.remove() }
        try emulator.addFault(["kind": "drop_upload", "after_bytes": 300_000, "count": 1])
        try emulator.addFault(["kind": "status", "endpoint": "uploads.query", "status": 503])
        try writePipeline(sandbox, emulator, extra: ", raw_upload_limit: 0, tries: 1")
        _ = try photos.run(sandbox)
        try emulator.clearFaults()
        // A planted session URL: another port on this machine, where a listener would see the token.
        let trap = try ConnectionTrap(directory: sandbox.root)
        try editUploadCheckpoints(sandbox, #"value["session_url"] = "http://127.0.0.1:\#(trap.port)/v1/uploads?upload_id=x""#)
        _ = try PipelineProcess.run(["retry", "--all-failed", "--state", sandbox.statePath], in: sandbox.root)
        let result = try photos.run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        #expect(trap.connections == 0, "the planted session URL was contacted")
        expectExact(sandbox, emulator, files)
    }

    @Test func aPlainHTTPEndpointOffLoopbackIsRefusedWhenTheFileIsRead() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: google-photos
                with: { client_id: a, client_secret: b, refresh_token: c, api_base: "http://photos.example.com" }
            """)
        let result = try PipelineProcess.run(["validate", "pipeline.yml"], in: sandbox.root, environment: [:], timeout: 60)
        #expect(result.status == 78)
        #expect(result.error.contains("pipeline.yml:") && result.error.contains("'api_base' must be https"), "\(result.error)")
    }
}
}
