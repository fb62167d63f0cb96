import Foundation
import Testing

extension EndToEnd.FTPTests {
    // MARK: rclone and gpmc as external stages

    /// A pipeline file listing the test server with `source` and fetching with `fetch` (one YAML
    /// line: the fetch takes its connection settings from the source, whichever stage it is).
    func writeSwappablePipeline(_ sandbox: Sandbox, server: FTPServer, name: String, source: String, fetch: String) throws {
        let connection = #"url: "\#(server.url)", username: \#(FTPServer.user), password: "${FTP_PASSWORD}""#
        try """
            version: 1
            state: \(name).state
            workdir: work-\(name)
            stop_grace: 1s
            source:
              \(source)
              with: { \(connection) }
            stages:
              - name: fetch
                \(fetch)
                retry: { attempts: 3, backoff: [0s] }
              - { name: upload, uses: local-upload, with: { destination: dest-\(name) } }
            """.write(toFile: sandbox.root + "/\(name).yml", atomically: true, encoding: .utf8)
    }

    func fetchOutputs(_ sandbox: Sandbox, state: String) throws -> [String: [String: Any]] {
        let result = try PipelineProcess.run(["status", "--state", sandbox.root + "/" + state, "--json"], in: sandbox.root)
        let items = (try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])?["items"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: items.map { item in
            return ("\(item["path"] ?? "") \(item["size"] ?? "") \(item["modified"] ?? "")", item.stageOutputs("fetch"))
        })
    }

    @Test func rcloneAndCurlStagesAreInterchangeable() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        for (index, path) in ["/a.jpg", "/albums/2019 Trip [Paris]/IMG 0001 (1).jpg", "/albums/été/vidéo.mp4", "/-dash/x.png"].enumerated() {
            try remoteFile(sandbox, path, size: 1000 + index * 700_000)
        }
        try writeSwappablePipeline(sandbox, server: server, name: "native", source: "uses: curl-list", fetch: "uses: curl-fetch")
        try writeSwappablePipeline(sandbox, server: server, name: "mixed", source: "uses: curl-list", fetch: "run: rclone-fetch")
        try writeSwappablePipeline(sandbox, server: server, name: "rclone", source: "run: rclone-list", fetch: "run: rclone-fetch")
        for name in ["native", "mixed", "rclone"] {
            let result = try PipelineProcess.run(["run", "\(name).yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
            #expect(result.status == 0, "\(name): \(result.error) \(result.output.suffix(500))")
            let copied = sandbox.files(in: sandbox.root + "/dest-\(name)")
            #expect(copied == sandbox.files(in: sandbox.root + "/remote"), "\(name): not byte-identical")
        }
        // Same listing (paths, sizes, times) and the same fetch outputs, whichever stages ran.
        let native = try fetchOutputs(sandbox, state: "native.state")
        #expect(native.count == 4)
        for name in ["mixed", "rclone"] {
            let other = try fetchOutputs(sandbox, state: "\(name).state")
            #expect(Set(other.keys) == Set(native.keys), "\(name) listed differently: \(other.keys.sorted()) vs \(native.keys.sorted())")
            for (key, outputs) in native {
                #expect(NSDictionary(dictionary: other[key] ?? [:]).isEqual(to: outputs), "\(name) \(key): \(other[key] ?? [:]) vs \(outputs)")
            }
        }
    }

    @Test func aNameLibcurlCannotSendIsExplainedAndRcloneFetchesIt() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox)
        try remoteFile(sandbox, "/tab\tname.jpg", size: 5000)
        try writeSwappablePipeline(sandbox, server: server, name: "curl", source: "uses: curl-list", fetch: "uses: curl-fetch")
        let native = try PipelineProcess.run(["run", "curl.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
        #expect(native.status == 1)
        let error = try PipelineProcess.run(["status", "--state", sandbox.root + "/curl.state", "--json"], in: sandbox.root).output
        #expect(error.contains("control character") && error.contains("rclone-fetch"), "\(error)")

        try writeSwappablePipeline(sandbox, server: server, name: "rclone", source: "uses: curl-list", fetch: "run: rclone-fetch")
        let swapped = try PipelineProcess.run(["run", "rclone.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
        #expect(swapped.status == 0, "\(swapped.output.suffix(600))")
        #expect(sameBytes(sandbox.root + "/remote/tab\tname.jpg", sandbox.root + "/dest-rclone/tab%09name.jpg")
                || sameBytes(sandbox.root + "/remote/tab\tname.jpg", sandbox.root + "/dest-rclone/tab\tname.jpg"),
                "\(sandbox.files(in: sandbox.root + "/dest-rclone").keys)")
    }

    @Test func rcloneFetchNeverHandsOnAFileShorterThanListedAndRestartsAfterKill9() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try serve(sandbox, ["--rate", "4000000"])
        try remoteFile(sandbox, "/clip.mp4", size: 20_000_000)
        try writeSwappablePipeline(sandbox, server: server, name: "p", source: "uses: curl-list", fetch: "run: rclone-fetch")
        try FileManager.default.copyItem(atPath: sandbox.root + "/p.yml", toPath: sandbox.pipelineFile)
        let cut = try runKilledMidDownload(sandbox, partial: sandbox.root + "/work-p/clip.mp4%partial", atLeast: 2_000_000)
        #expect(cut < 20_000_000)
        // The killed run's rclone (its own process group) is stopped by the next run; the partial
        // file is never continued nor handed on.
        try server.control(["rate": NSNull()])
        let second = try run(sandbox)
        #expect(second.status == 0, "\(second.error)")
        #expect(second.output.contains("rclone cannot resume"), "\(second.output.suffix(800))")
        #expect(sameBytes(sandbox.root + "/remote/clip.mp4", sandbox.root + "/dest-p/clip.mp4"))

        // A listing that says more bytes than rclone brings (a file still being written, a stale
        // listing): rclone itself succeeds, the stage's size check must refuse the short file.
        try remoteFile(sandbox, "/growing.mp4", size: 3_000_000)
        let listing: [[String: Any]] = [["path": "/growing.mp4", "size": 3_000_001]]
        try JSONSerialization.data(withJSONObject: listing).write(to: URL(fileURLWithPath: sandbox.root + "/listing.json"))
        try writeSwappablePipeline(sandbox, server: server, name: "q", source: "run: list-json", fetch: "run: rclone-fetch")
        let text = try String(contentsOfFile: sandbox.root + "/q.yml", encoding: .utf8)
            .replacingOccurrences(of: "run: list-json\n  with: {", with: "run: list-json\n  with: { file: listing.json, ")
        try text.write(toFile: sandbox.root + "/q.yml", atomically: true, encoding: .utf8)
        let third = try PipelineProcess.run(["run", "q.yml", "--log-format", "json"], in: sandbox.root, environment: Self.environment)
        #expect(third.status == 1, "\(third.error)")
        let items = try fetchOutputs(sandbox, state: "q.state")
        #expect(items.values.allSatisfy { $0.isEmpty }, "a short file was recorded as fetched: \(items)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/dest-q/growing.mp4"), "a short file was handed on")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/work-q/growing.mp4"))
    }

    @Test("rclone exit statuses: 5 is retried, 3 and 4 fail at once with rclone's message", arguments: [5, 4, 3])
    func rcloneExitStatuses(status: Int) throws {
        let sandbox = try Sandbox("rclone-exit-\(status)")
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 1, sizes: 5000...5000, folders: 1)
        var fetch = "root: src"
        if status == 3 {
            // Real rclone, a folder that is not there: its own exit status 3.
            fetch = "remote: \"\(sandbox.root)/nowhere\""
        } else {
            // rclone, behind a wrapper that fails the first copy with `status` (a flaky network,
            // a vanished file), as rclone reports those.
            let wrapper = sandbox.root + "/rclone-wrapper"
            try """
                #!/bin/sh
                if [ "$1" = copyto ] && [ ! -e "\(sandbox.root)/failed-once" ]; then
                    touch "\(sandbox.root)/failed-once"
                    echo '{"level":"error","msg":"Failed to copy: simulated failure \(status)"}' >&2
                    exit \(status)
                fi
                exec rclone "$@"
                """.write(toFile: wrapper, atomically: true, encoding: .utf8)
            chmod(wrapper, 0o755)
            // The library as an rclone remote of its own (an alias), whose root is the listing's root.
            fetch = "remote: \"library:\", rclone: \(wrapper)"
        }
        try sandbox.writePipeline("""
            version: 1
            state: test.state
            workdir: work
            source: { uses: local-list, with: { root: src } }
            stages:
              - name: fetch
                run: rclone-fetch
                retry: { attempts: 3, backoff: [0s] }
                with: { \(fetch) }
            """)
        let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root,
                                             environment: ["RCLONE_CONFIG_LIBRARY_TYPE": "alias", "RCLONE_CONFIG_LIBRARY_REMOTE": sandbox.source])
        let events = PipelineProcess.events(in: result.output)
        let attempts = events.filter { $0.event("stage_started", stage: "fetch") }.count
        let item = try sandbox.statusItems().values.first
        if status == 5 {
            #expect(result.status == 0, "\(result.output.suffix(1500))")
            #expect(attempts == 2, "exit 5 was not retried")
        } else {
            #expect(result.status == 1)
            #expect(attempts == 1, "exit \(status) was retried")
            let error = item?["last_error"] as? String ?? ""
            #expect(error.contains("exit status \(status)") && (status == 3 ? error.contains("directory not found") : error.contains("simulated failure")), "\(error)")
        }
    }

    @Test func rcloneUploadCopiesToALocalRemoteOnce() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let files = try sandbox.makeFiles(count: 3, sizes: 1000...50_000)
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                run: rclone-upload
                irreversible: true
                with: { destination: ":local:\(sandbox.root)/rclone-dest" }
            """)
        #expect(try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root).status == 0)
        for file in files {
            #expect(sameBytes(sandbox.source + file, sandbox.root + "/rclone-dest" + file), "\(file)")
        }
        let again = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(PipelineProcess.events(in: again.output).filter { $0.event("stage_started", stage: "upload") }.isEmpty)
    }

    @Test func gpmcUploadRefusesMissingAuthDataAndShowsTheCallItWouldMake() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 1, sizes: 2000...2000, folders: 1)
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                run: gpmc-upload
                irreversible: true
                with: { album: Holidays, use_quota: true, dry_run: "${DRY_RUN:-false}" }
            """)
        let missing = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root, environment: ["GP_AUTH_DATA": ""])
        #expect(missing.status == 1)
        let error = try sandbox.statusItems().values.first?["last_error"] as? String ?? ""
        #expect(error.contains("GP_AUTH_DATA"), "\(error)")

        let auth = "androidId=216e583113f43c75&client_sig=24bb&callerSig=24bb&device_country=us&Email=someone%40example.com"
            + "&google_play_services_version=240913000&lang=en_US&oauth2_foreground=1&sdk_version=28&service=oauth2%3Aopenid&Token=aas_et%2FFAKE"
        _ = try PipelineProcess.run(["retry", "--all-failed"], in: sandbox.root)
        let dry = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root,
                                          environment: ["GP_AUTH_DATA": auth, "DRY_RUN": "true"])
        #expect(dry.status == 0, "\(dry.output.suffix(600))")
        let outputs = try sandbox.statusItems().values.first?.stageOutputs("upload")
        let call = outputs?["would_call"] as? [String: Any]
        #expect((call?["target"] as? String)?.hasSuffix("/work/album0/photo 0.jpg") == true, "\(String(describing: outputs))")
        #expect(call?["album_name"] as? String == "Holidays" && call?["use_quota"] as? Bool == true && call?["saver"] as? Bool == false)
        #expect(!dry.output.contains("aas_et"), "the auth token was printed")
    }
}
