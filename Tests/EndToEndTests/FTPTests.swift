import Foundation
import Testing

extension EndToEnd {
@Suite("FTP: listing and resumable fetch against a real server")
struct FTPTests {
    static let environment = ["FTP_PASSWORD": FTPServer.password]

    /// A remote folder in the sandbox, served by `Scripts/ftp-server`.
    func serve(_ sandbox: Sandbox, _ arguments: [String] = []) throws -> FTPServer {
        try FileManager.default.createDirectory(atPath: sandbox.root + "/remote", withIntermediateDirectories: true)
        return try FTPServer(root: sandbox.root + "/remote", arguments: arguments, directory: sandbox.root)
    }

    /// A pipeline listing `url` with curl-list as the test user (`source` adds to its `with:`,
    /// `sourceKeys` is one line of keys beside it such as `exclude: […]`), then `stages` (YAML list
    /// entries); `settings` go at the top level.
    func writeCurlListPipeline(_ sandbox: Sandbox, url: String, source: String = "", sourceKeys: String = "", settings: String = "",
                               stages: String) throws {
        try sandbox.writePipeline("""
            version: 1
            state: test.state
            workdir: work
            stop_grace: 1s
            \(settings)
            source:
              uses: curl-list
              with: { url: "\(url)", username: \(FTPServer.user), password: "${FTP_PASSWORD}"\(source) }
              \(sourceKeys)
            stages:
            \(stages)
            """)
    }

    /// curl-list → curl-fetch → checksum → local-upload, with extra `with:` for the source and fetch.
    func writeFTPPipeline(_ sandbox: Sandbox, server: FTPServer, source: String = "", fetch: String = "",
                          fetchRetry: String = "{ attempts: 3, backoff: [0s] }", verifyAndUpload: Bool = true) throws {
        try writeCurlListPipeline(sandbox, url: server.url, source: source, stages: """
              - name: fetch
                uses: curl-fetch
                retry: \(fetchRetry)
                with: { stall_timeout: 2s\(fetch) }
            """ + (verifyAndUpload ? """

              - name: verify
                uses: checksum
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """ : ""))
    }

    /// Random bytes at `relative` below the remote folder.
    func remoteFile(_ sandbox: Sandbox, _ relative: String, size: Int) throws {
        try Sandbox.writeRandomFile(at: sandbox.root + "/remote" + relative, size: size)
    }

    func sameBytes(_ first: String, _ second: String) -> Bool {
        FileManager.default.contentsEqual(atPath: first, andPath: second)
    }

    /// Starts a run, waits until `partial` holds `bytes` (or the run ends), kills it with -9 and
    /// returns the partial file's size then.
    func runKilledMidDownload(_ sandbox: Sandbox, partial: String, atLeast bytes: Int, environment: [String: String] = FTPTests.environment) throws -> Int {
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: environment)
        let deadline = Date().addingTimeInterval(30)
        while ((try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0) < bytes, Date() < deadline,
            run.isRunning { usleep(50_000) }
        run.signal(SIGKILL)
        run.wait()
        let cut = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0
        #expect(cut > 0, "nothing was fetched before the kill: \(run.lines.suffix(6)) \(run.stderr)")
        return cut
    }

    func run(_ sandbox: Sandbox, _ extra: [String] = []) throws -> (status: Int32, output: String, error: String) {
        try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"] + extra, in: sandbox.root, environment: Self.environment)
    }

    // MARK: Listing

    /// 1,000+ files in 50+ folders nested 5 deep, with spaces, brackets, unicode and leading dashes.
    func awkwardTree(_ sandbox: Sandbox) throws -> [String: (size: Int, modified: String)] {
        let remote = sandbox.root + "/remote"
        var expected: [String: (size: Int, modified: String)] = [:]
        var folders: [String] = []
        for a in 0..<2 { for b in 0..<3 { for c in 0..<3 { for d in 0..<3 {
            folders.append("/Lib \(a)/[B \(b)]/ü-C\(c)/-D \(d)/E e")
        } } } }
        folders += ["/Lib 0", "/Lib 1/[B 2]", "/empty/deeper"]
        var generator = SplitMix(seed: 9)
        for index in 0..<1030 {
            let folder = folders[index % (folders.count - 1)]
            let path = "\(folder)/-\(index) photo [\(index % 7)] ü\(index % 5 == 0 ? " (copy)" : "").jpg"
            let size = Int(generator.next() % 2048)
            try FileManager.default.createDirectory(atPath: remote + folder, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: remote + path, contents: Data(repeating: UInt8(index % 251), count: size))
            let seconds = 1_600_000_000 + Int(generator.next() % 100_000_000)
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: Double(seconds))], ofItemAtPath: remote + path)
            expected[path] = (size, Self.iso8601(seconds))
        }
        try FileManager.default.createDirectory(atPath: remote + "/empty/deeper", withIntermediateDirectories: true)
        // A link loop: the walk must not follow it.
        try FileManager.default.createSymbolicLink(atPath: remote + "/Lib 0/loop", withDestinationPath: remote + "/Lib 0")
        return expected
    }

    static func iso8601(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }

    @Test("recursive listing matches the files on disk", arguments: ["mlsd", "list"])
    func recursiveListingMatchesTheDisk(mode: String) throws {
        let sandbox = try Sandbox("listing-\(mode)")
        defer { sandbox.remove() }
        let server = try serve(sandbox, mode == "list" ? ["--no-mlsd"] : [])
        let expected = try awkwardTree(sandbox)
        #expect(expected.count >= 1000)
        try writeCurlListPipeline(sandbox, url: server.url, source: ", listing: \(mode == "list" ? "auto" : "mlsd")", stages: """
              - name: cleanup
                uses: delete-local
            """)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        let items = try sandbox.statusItems()
        #expect(Set(items.keys) == Set(expected.keys), "listed paths differ from the disk")
        for (path, file) in expected {
            #expect(items[path]?["size"] as? Int == file.size, "\(path) size")
            #expect(items[path]?["modified"] as? String == file.modified, "\(path) time")
        }
        let commands = server.events.compactMap { $0["cmd"] as? String }
        if mode == "mlsd" {
            #expect(!commands.contains("LIST"), "LIST was used although the server has MLSD")
        } else {
            // Without MLSD, auto mode asks once, then lists every folder with LIST.
            #expect(commands.filter { $0 == "MLSD" }.count == 1)
            #expect(commands.filter { $0 == "LIST" }.count > 50)
        }
    }

    // MARK: Resume

    @Test func aDroppedConnectionIsResumedAtTheExactByteWithinOneRun() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--drop-after", "5000000"])
        let size = 50_000_000
        try remoteFile(sandbox, "/video/big clip.mkv", size: size)
        try writeFTPPipeline(sandbox, server: server, fetchRetry: "{ attempts: 15, backoff: [0s] }")
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        #expect(sameBytes(sandbox.root + "/remote/video/big clip.mkv", sandbox.destination + "/video/big clip.mkv"))
        let downloads = server.downloads(of: "/video/big clip.mkv")
        #expect(downloads.count >= 10, "each try got at most 5 MB")
        var expectedOffset = 0
        for download in downloads {
            #expect(download.offset == expectedOffset, "a retry did not resume where the last one stopped")
            expectedOffset += download.bytes
        }
        #expect(downloads.reduce(0) { $0 + $1.bytes } <= size + 1_000_000)
    }

    @Test func afterKill9TheNextRunResumesAtThePartialSize() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--rate", "40000000"])
        try remoteFile(sandbox, "/big.bin", size: 200_000_000)
        try writeFTPPipeline(sandbox, server: server)
        let cut = try runKilledMidDownload(sandbox, partial: sandbox.workdir + "/big.bin%partial", atLeast: 30_000_000)
        #expect(cut < 200_000_000)

        try server.control(["rate": NSNull()])
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        #expect(server.downloads(of: "/big.bin").last?.offset == cut, "the second run did not resume at the partial size")
        #expect(sameBytes(sandbox.root + "/remote/big.bin", sandbox.destination + "/big.bin"))
    }

    @Test func aServerThatRefusesRESTGetsTheFileFromByteZero() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--rate", "2000000"])
        try remoteFile(sandbox, "/clip.mov", size: 6_000_000)
        try writeFTPPipeline(sandbox, server: server)
        _ = try runKilledMidDownload(sandbox, partial: sandbox.workdir + "/clip.mov%partial", atLeast: 1_000_000)

        try server.control(["rate": NSNull(), "refuse_rest": true])
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        let refused = server.events.contains { $0["event"] as? String == "command" && $0["cmd"] as? String == "REST" }
        #expect(refused, "the second run never asked to resume, so the refusal path was not exercised")
        #expect(server.downloads(of: "/clip.mov").last?.offset == 0)
        #expect(sameBytes(sandbox.root + "/remote/clip.mov", sandbox.destination + "/clip.mov"))
    }

    @Test("a remote file replaced between runs is fetched anew, never spliced", arguments: [false, true])
    func aChangedRemoteFileIsFetchedAnew(sameSize: Bool) throws {
        let sandbox = try Sandbox("changed-\(sameSize)")
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--rate", "2000000"])
        try remoteFile(sandbox, "/doc.bin", size: 6_000_000)
        try writeFTPPipeline(sandbox, server: server)
        _ = try runKilledMidDownload(sandbox, partial: sandbox.workdir + "/doc.bin%partial", atLeast: 1_000_000)

        try remoteFile(sandbox, "/doc.bin", size: sameSize ? 6_000_000 : 4_500_000)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: sandbox.root + "/remote/doc.bin")
        try server.control(["rate": NSNull()])
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        #expect(server.downloads(of: "/doc.bin").last?.offset == 0, "the partial of the old file was continued")
        #expect(sameBytes(sandbox.root + "/remote/doc.bin", sandbox.destination + "/doc.bin"))
    }

    // MARK: Server-side hashes

    @Test("checksum compares with the server's own hash where FEAT offers one", arguments: ["x", "rfc", "none"])
    func serverHashes(commands: String) throws {
        let offered = commands != "none"
        let sandbox = try Sandbox("server-hash-\(commands)")
        defer { sandbox.remove() }
        let server = try serve(sandbox, offered ? ["--hash-commands", commands] : [])
        try remoteFile(sandbox, "/pics/x ray.jpg", size: 700_000)
        try writeCurlListPipeline(sandbox, url: server.url, stages: """
              - { name: fetch, uses: curl-fetch, retry: { attempts: 3, backoff: [0s] } }
              - { name: damage, run: flip-byte-once, with: { marker: flipped.txt } }
              - { name: verify, uses: checksum, with: { algorithms: [sha256, crc32], expect: server } }
              - { name: upload, uses: local-upload, with: { destination: dest } }
            """)
        let result = try run(sandbox)
        let item = try sandbox.statusItems()["/pics/x ray.jpg"]
        let verify = item?.stageOutputs("verify")
        if offered {
            #expect(result.status == 0, "\(result.error)")
            #expect(verify?["verified_against"] as? String == "the server (sha256)", "\(String(describing: verify))")
            #expect(server.downloads(of: "/pics/x ray.jpg").count == 2, "the corrupted copy was not fetched again")
            #expect(server.events.contains { $0["cmd"] as? String == (commands == "x" ? "XSHA256" : "HASH") })
            #expect(sameBytes(sandbox.root + "/remote/pics/x ray.jpg", sandbox.destination + "/pics/x ray.jpg"))
        } else {
            // Nothing to compare with: the damage goes unseen, and the record says so.
            #expect(result.status == 0, "\(result.error)")
            #expect(verify?["verified_against"] as? String == "none")
            #expect(result.output.contains("offers no file hash command"))
        }
    }

    @Test func sidecarsAreReadFromTheServerOverOneConnectionPerItem() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        try remoteFile(sandbox, "/a.jpg", size: 5000)
        try remoteFile(sandbox, "/set/b.jpg", size: 6000)
        let sha = { (path: String) in try Command.digest("sha256sum", sandbox.root + "/remote" + path) }
        try "\(try sha("/a.jpg"))  a.jpg\n".write(toFile: sandbox.root + "/remote/a.jpg.sha256", atomically: true, encoding: .utf8)
        try "\(try sha("/set/b.jpg"))  b.jpg\n".write(toFile: sandbox.root + "/remote/set/SHA256SUMS", atomically: true, encoding: .utf8)
        try writeCurlListPipeline(sandbox, url: server.url, sourceKeys: #"exclude: ["**/*.sha256", "**/*SUMS"]"#, stages: """
              - { name: fetch, uses: curl-fetch }
              - { name: verify, uses: checksum, with: { expect: sidecar } }
            """)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        let items = try sandbox.statusItems()
        #expect(items["/a.jpg"]?.stageOutputs("verify")["verified_against"] as? String == "the sidecar a.jpg.sha256")
        #expect(items["/set/b.jpg"]?.stageOutputs("verify")["verified_against"] as? String == "SHA256SUMS")
        // One login for the listing, one per fetch, one per item's sidecar search (b.jpg tries four
        // sidecar names before the list: one connection for all of them).
        let logins = server.events.filter { $0["cmd"] as? String == "USER" }.count
        #expect(logins == 5, "\(logins) logins")
    }

    // MARK: Failures

    @Test func aStalledTransferFailsWithinTheStallTimeoutAndIsRetried() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        try server.control(["stall_after": 1_000_000])
        try remoteFile(sandbox, "/slow.bin", size: 3_000_000)
        try writeFTPPipeline(sandbox, server: server)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
        #expect(run.waitForEvents { $0.event("stage_started", stage: "fetch") })
        let started = Date()
        #expect(run.waitForEvents(timeout: 20) { $0.event("stage_retrying", stage: "fetch") })
        let detected = Date().timeIntervalSince(started)
        #expect(detected < 2 + 5, "the stall took \(detected) s to notice (stall_timeout 2s)")
        try server.control(["stall_after": NSNull()])
        #expect(run.wait() == 0)
        let downloads = server.downloads(of: "/slow.bin")
        #expect(downloads.first?.bytes ?? 0 >= 1_000_000 - 65_536)
        #expect(downloads.last?.offset ?? 0 > 0, "the retry did not resume")
        #expect(sameBytes(sandbox.root + "/remote/slow.bin", sandbox.destination + "/slow.bin"))
    }

    @Test func aWrongPasswordFailsPermanentlyNamingTheLoginNeverThePassword() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        try remoteFile(sandbox, "/a.bin", size: 1000)
        let wrong = "wrong-\(UUID().uuidString.prefix(8))"
        try writeFTPPipeline(sandbox, server: server, fetch: ", password: \"${WRONG_PASSWORD}\"")
        let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root,
                                             environment: Self.environment.merging(["WRONG_PASSWORD": wrong]) { $1 })
        #expect(result.status == 1)
        let item = try sandbox.statusItems()["/a.bin"]
        let error = item?["last_error"] as? String ?? ""
        #expect(error.contains("as 'alice' was refused (530)"), "\(error)")
        #expect(!result.output.contains(wrong) && !result.error.contains(wrong))
        #expect(server.events.filter { $0["cmd"] as? String == "PASS" && $0["user"] as? String == "alice" }.count <= 2,
                "a refused login was retried")

        try writeFTPPipeline(sandbox, server: server)
        let badSource = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root, environment: ["FTP_PASSWORD": wrong])
        #expect(badSource.status == 69)
        #expect(badSource.error.contains("login to ftp://alice@127.0.0.1:\(server.port)/ as 'alice' was refused"), "\(badSource.error)")
        #expect(!badSource.error.contains(wrong))
    }

    @Test func aMissingRemoteFileFailsPermanently() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        try sandbox.writeListedPipeline(listing: [["path": "/gone.bin", "size": 10]], fetch: """
              - name: fetch
                uses: curl-fetch
                retry: { attempts: 3, backoff: [0s] }
                with: { url: "\(server.url)", username: \(FTPServer.user), password: "${FTP_PASSWORD}" }
            """)
        let result = try run(sandbox)
        #expect(result.status == 1)
        let error = try sandbox.statusItems()["/gone.bin"]?["last_error"] as? String ?? ""
        #expect(error.contains("'/gone.bin' is not on"), "\(error)")
        #expect(server.events.filter { $0["cmd"] as? String == "PASS" }.count == 1, "a missing file was retried")
    }

    // MARK: FTPS

    @Test func explicitFTPSListsAndResumesAndRefusesAnUntrustedCertificate() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let certificates = sandbox.root + "/certs"
        let server = try serve(sandbox, ["--tls", "explicit", "--cert-dir", certificates, "--drop-after", "3000000"])
        try remoteFile(sandbox, "/secure/file one.bin", size: 10_000_000)

        try writeFTPPipeline(sandbox, server: server, source: ", tls: required", fetchRetry: "{ attempts: 10, backoff: [0s] }")
        let untrusted = try run(sandbox)
        #expect(untrusted.status == 69)
        #expect(untrusted.error.contains("certificate is not trusted"), "\(untrusted.error)")

        try writeFTPPipeline(sandbox, server: server, source: ", tls: required, ca_file: certs/cert.pem",
                             fetchRetry: "{ attempts: 10, backoff: [0s] }")
        let trusted = try run(sandbox)
        #expect(trusted.status == 0, "\(trusted.error)")
        #expect(sameBytes(sandbox.root + "/remote/secure/file one.bin", sandbox.destination + "/secure/file one.bin"))
        let downloads = server.downloads(of: "/secure/file one.bin")
        #expect(downloads.count >= 4)
        #expect(downloads.dropFirst().allSatisfy { $0.offset > 0 }, "TLS retries did not resume")
        #expect(!server.events.contains { $0["cmd"] as? String == "RETR" && $0["tls"] as? Bool == false })
    }

    @Test func implicitFTPSAndInsecureModeWork() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--tls", "implicit", "--cert-dir", sandbox.root + "/certs"])
        try remoteFile(sandbox, "/a b.bin", size: 2_000_000)
        let implicitURL = server.url.replacingOccurrences(of: "ftp://", with: "ftps://")
        try writeCurlListPipeline(sandbox, url: implicitURL, source: ", insecure: true", stages: """
              - name: fetch
                uses: curl-fetch
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(result.error)")
        #expect(sameBytes(sandbox.root + "/remote/a b.bin", sandbox.destination + "/a b.bin"))
        #expect(server.events.filter { $0["event"] as? String == "retr_end" }.allSatisfy { $0["tls"] as? Bool == true })
    }

    @Test func sigtermStopsAFetchWithinASecondAndTheNextRunResumes() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--rate", "2000000"])
        try remoteFile(sandbox, "/movie.mkv", size: 20_000_000)
        try writeFTPPipeline(sandbox, server: server, source: "", fetch: "", verifyAndUpload: true)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
        #expect(run.waitForEvents { $0.event("stage_started", stage: "fetch") })
        usleep(1_500_000)
        let signalled = Date()
        run.signal(SIGTERM)
        #expect(run.wait(timeout: 10) == 75)
        #expect(Date().timeIntervalSince(signalled) < 1.5, "the fetch did not stop within a second")
        let cut = (try? FileManager.default.attributesOfItem(atPath: sandbox.workdir + "/movie.mkv%partial")[.size] as? Int) ?? 0
        #expect(cut > 1_000_000)
        try server.control(["rate": NSNull()])
        #expect(try self.run(sandbox).status == 0)
        #expect(server.downloads(of: "/movie.mkv").last?.offset == cut)
        #expect(sameBytes(sandbox.root + "/remote/movie.mkv", sandbox.destination + "/movie.mkv"))
    }

    // MARK: SFTP

    @Test func sftpListsAndResumesAfterKill9AndChecksTheHostKey() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try SSHServer(directory: sandbox.root)
        try remoteFile(sandbox, "/album [1]/clip ü.mp4", size: 200_000_000)
        try remoteFile(sandbox, "/album [1]/photo.jpg", size: 3000)
        let base = "sftp://root@127.0.0.1:\(server.port)\(sandbox.root)/remote/"
        func pipeline(_ connection: String) throws {
            try sandbox.writePipeline("""
                version: 1
                state: test.state
                workdir: work
                source:
                  uses: curl-list
                  with: { url: "\(base)", ssh_key: ssh/client_key\(connection) }
                stages:
                  - name: fetch
                    uses: curl-fetch
                    with: { stall_timeout: 5s }
                  - name: upload
                    uses: local-upload
                    with: { destination: dest }
                """)
        }
        try pipeline("")
        let unverified = try run(sandbox)
        #expect(unverified.status == 78, "a missing known_hosts must be a configuration error: \(unverified.error)")
        #expect(unverified.error.contains("known_hosts"))

        try "[127.0.0.1]:\(server.port) ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdpYWdub3N0aWNzLW5vdC1hLXJlYWwta2V5LWF0LWFsbA\n"
            .write(toFile: sandbox.root + "/wrong_hosts", atomically: true, encoding: .utf8)
        try pipeline(", known_hosts: wrong_hosts")
        let spoofed = try run(sandbox)
        #expect(spoofed.status == 69)
        #expect(spoofed.error.contains("host key is not in 'known_hosts'"), "\(spoofed.error)")

        // Not slowed with rate_limit: libcurl's receive limit did not always hold for SFTP here.
        try pipeline(", known_hosts: ssh/known_hosts")
        let cut = try runKilledMidDownload(sandbox, partial: sandbox.workdir + sandbox.root + "/remote/album [1]/clip ü.mp4%partial",
                                           atLeast: 1_000_000, environment: [:])


        try pipeline(", known_hosts: ssh/known_hosts")
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        let items = try sandbox.statusItems()
        #expect(items.count == 2)
        let clip = sandbox.root + "/remote/album [1]/clip ü.mp4"
        #expect(items[clip]?.stageOutputs("fetch")["resumed_at"] as? Int == cut)
        #expect(sameBytes(clip, sandbox.destination + clip))
    }

    /// A race, so probabilistic: without the fix it failed about one run in three here.
    @Test func concurrentItemsNeverLoseTheirFolderToAnotherItemsCleanup() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        // Two files per folder: one item's cleanup often empties the folder the other is fetching into.
        for index in 0..<120 { try remoteFile(sandbox, "/album \(index / 2)/item \(index).jpg", size: 20_000) }
        try writeCurlListPipeline(sandbox, url: server.url, settings: "concurrency: 4", stages: """
              - name: fetch
                uses: curl-fetch
                retry: { attempts: 1 }
              - name: cleanup
                uses: delete-local
            """)
        let result = try run(sandbox)
        #expect(result.status == 0, "\(PipelineProcess.events(in: result.output).filter { $0.event("item_failed") }.prefix(2))")
        #expect((try sandbox.status()["summary"] as? [String: Any])?["completed"] as? Int == 120)
        #expect(sandbox.files(in: sandbox.workdir).isEmpty)
    }

    @Test func rateLimitHoldsADownloadToItsBandwidth() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        try remoteFile(sandbox, "/f.bin", size: 6_000_000)
        try writeFTPPipeline(sandbox, server: server, fetch: ", rate_limit: 2MB", verifyAndUpload: false)
        let began = Date()
        #expect(try run(sandbox).status == 0)
        let seconds = Date().timeIntervalSince(began)
        #expect(seconds >= 2.7 && seconds < 6, "6 MB at 2 MB/s took \(seconds) s")
        #expect(sameBytes(sandbox.root + "/remote/f.bin", sandbox.workdir + "/f.bin"))
    }
}
}
