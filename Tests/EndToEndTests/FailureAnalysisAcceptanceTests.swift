import Foundation
import Testing

extension EndToEnd {
/// Issue 15's acceptance: a library with failures of six kinds planted, the real FTP server, the
/// built binary and a real external stage. `pipeline failures` names each group with its count and
/// a fix; the fixes, applied as they read, leave no failure after the next run.
@Suite("Failure analysis: planted failures are grouped, and their suggested fixes fix them")
struct FailureAnalysisAcceptanceTests {
    static let environment = ["FTP_PASSWORD": FTPServer.password]
    /// The accept stage's size limit, and the sizes of files below and above it.
    static let sizeLimit = 30_000
    /// Downloads of the flaky files are cut after this many bytes while the server is flaky.
    static let dropAfter = 4_000

    /// An external stage standing in for a destination's rules: `.mts` is not taken (unsupported
    /// type), a file over `sizeLimit` bytes is too large; it says so with the protocol's `category`.
    static let acceptStage = """
        #!/usr/bin/env python3
        import json, sys
        request = json.load(sys.stdin)
        item = request["item"]
        def refuse(message, category):
            print(json.dumps({"type": "result", "status": "error", "message": message, "category": category}))
            sys.exit(1)
        if item["path"].lower().endswith(".mts"):
            refuse(f"the destination does not take .mts files: {item['path']}", "unsupported_type")
        if int(item["size"]) > \(sizeLimit):
            refuse(f"{item['path']} is {item['size']} bytes, over the destination's limit of \(sizeLimit)", "too_large")
        print(json.dumps({"type": "result", "status": "ok"}))
        """

    func writePipeline(_ sandbox: Sandbox, server: FTPServer, sourceKeys: String = "") throws {
        try sandbox.writePipeline("""
            version: 1
            state: test.state
            workdir: work
            stop_grace: 1s
            concurrency: 2
            max_failures: 5
            source:
              uses: curl-list
              with: { url: "\(server.url)", username: \(FTPServer.user), password: "${FTP_PASSWORD}" }
              \(sourceKeys)
            stages:
              - name: fetch
                uses: curl-fetch
                retry: { attempts: 2, backoff: [0s] }
                with: { stall_timeout: 5s }
              - name: inspect
                uses: archive-inspect
              - name: accept
                run: ./accept.py
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """)
    }

    /// Makes `folder` unwritable, for root too (root ignores permission bits; an immutable folder
    /// it cannot write without lifting the flag first).
    func lock(_ folder: String, _ locked: Bool) throws {
        if getuid() == 0 {
            try Command.output(["chattr", locked ? "+i" : "-i", folder])
        } else {
            try FileManager.default.setAttributes([.posixPermissions: locked ? 0o555 : 0o755], ofItemAtPath: folder)
        }
    }

    func failures(_ sandbox: Sandbox, json: Bool = false) throws -> (status: Int32, output: String) {
        let result = try PipelineProcess.run(["failures", "pipeline.yml"] + (json ? ["--json"] : []), in: sandbox.root, environment: Self.environment)
        return (result.status, result.output)
    }

    /// The JSON groups of `kind`, by category (and key).
    func groups(_ document: [String: Any], _ kind: String) -> [[String: Any]] {
        ((document["groups"] as? [String: Any])?[kind] as? [[String: Any]]) ?? []
    }

    @Test func plantedFailuresAreGroupedAndTheirSuggestionsFixThem() throws {
        let sandbox = try Sandbox()
        let remote = sandbox.root + "/remote"
        let locked = sandbox.destination + "/locked"
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: true)
        try lock(locked, true)
        defer {
            try? lock(locked, false)
            sandbox.remove()
        }
        for path in ["/ok/a.jpg", "/ok/b.jpg", "/gone/g1.jpg", "/gone/g2.jpg", "/clips/v1.mts", "/clips/v2.MTS", "/locked/p1.jpg", "/locked/p2.jpg",
                     "/archives/broken.zip"] {
            try Sandbox.writeRandomFile(at: remote + path, size: 2000)
        }
        for path in ["/big/h1.jpg", "/big/h2.jpg"] { try Sandbox.writeRandomFile(at: remote + path, size: Self.sizeLimit + 10_000) }
        for path in ["/flaky/f1.jpg", "/flaky/f2.jpg"] { try Sandbox.writeRandomFile(at: remote + path, size: Self.dropAfter * 5) }
        let server = try FTPServer(root: remote, directory: sandbox.root)
        // Listed, then gone before their download; the flaky files' downloads are cut short, every one.
        try server.control(["missing": ["/gone/g1.jpg", "/gone/g2.jpg"], "drop_after": Self.dropAfter, "only": ["/flaky/f1.jpg", "/flaky/f2.jpg"]])
        try writePipeline(sandbox, server: server)
        try Self.acceptStage.write(toFile: sandbox.root + "/accept.py", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: sandbox.root + "/accept.py")

        // The first run: everything planted fails; the log's end and the Actions step summary count them by category.
        let summaryFile = sandbox.root + "/step-summary.md"
        let first = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root,
                                            environment: Self.environment.merging(["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summaryFile]) { $1 },
                                            timeout: 300)
        #expect(first.status == 1, "\(first.output)\n\(first.error)")
        for line in ["failed in this run: 2 network", "failed in this run: 2 remote file missing or changed", "failed in this run: 2 unsupported type",
                     "failed in this run: 2 too large", "failed in this run: 2 permission", "failed in this run: 1 corrupt source"] {
            #expect(first.output.contains(line), "the log's end lacks '\(line)':\n\(first.output)")
        }
        let summary = try String(contentsOfFile: summaryFile, encoding: .utf8)
        #expect(summary.contains("### Failures by category") && summary.contains("| unsupported type | 2 |") && summary.contains("| network | 2 |"),
                "\(summary)")

        // `pipeline failures`: each group with its count and one fix.
        let text = try failures(sandbox)
        #expect(text.status == 1)
        #expect(text.output.contains("11 failed items"), "\(text.output)")
        for expected in ["remote file missing or changed: 2 items", "`pipeline forget --missing`", "unsupported type: 2 items",
                         ".mts (unsupported type): 2 items", "add `**/*.mts` to the source's `exclude:`", "too large: 2 items", "`max_size:`",
                         "permission: 2 items", "/locked (permission): 2 items", "corrupt source: 1 item", "copy them again at the source",
                         "network: 2 items", "`pipeline retry --all-failed`"] {
            #expect(text.output.contains(expected), "`pipeline failures` lacks '\(expected)':\n\(text.output)")
        }
        let json = try failures(sandbox, json: true)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        #expect(document["failed"] as? Int == 11)
        let byCategory = Dictionary(uniqueKeysWithValues: groups(document, "category").map { ($0["category"] as? String ?? "", $0) })
        let counts = byCategory.mapValues { $0["count"] as? Int ?? 0 }
        #expect(counts == ["remote_missing": 2, "unsupported_type": 2, "too_large": 2, "permission": 2, "network": 2, "corrupt_source": 1], "\(json.output)")
        #expect((byCategory["remote_missing"]?["suggestion"] as? String ?? "").contains("pipeline forget --missing"))
        #expect((byCategory["remote_missing"]?["first_run"] as? Int) == 1)
        let mts = groups(document, "extension").first { $0["key"] as? String == "mts" }
        #expect(mts?["count"] as? Int == 2 && (mts?["suggestion"] as? String ?? "").contains("`**/*.mts`"))
        #expect(groups(document, "folder").contains { $0["key"] as? String == "/locked" && $0["category"] as? String == "permission" })

        // The run history page draws the same categories, from the real state, in a real browser.
        let report = try PipelineProcess.run(["report", "pipeline.yml", "--html", "report.html"], in: sandbox.root, environment: Self.environment)
        #expect(report.status == 0, "\(report.error)")
        let browser = try HeadlessBrowser()
        let dom = try browser.dom(of: sandbox.root + "/report.html")
        for (title, count) in [("remote file missing or changed", 2), ("unsupported type", 2), ("too large", 2), ("permission", 2), ("network", 2),
                               ("corrupt source", 1)] {
            #expect(dom.output.range(of: #">\#(title)</text>.*?>\#(count)</text></g>"#, options: .regularExpression) != nil,
                    "the category chart lacks \(title) \(count): \(dom.output.prefix(4000))")
        }
        let picture = try browser.screenshot(of: sandbox.root + "/report.html", to: sandbox.root + "/report.png")
        #expect(picture.leftovers.isEmpty)
        try? FileManager.default.removeItem(atPath: "/tmp/report-failures-screenshot.png")
        try? FileManager.default.copyItem(atPath: sandbox.root + "/report.png", toPath: "/tmp/report-failures-screenshot.png")

        // The fixes, as suggested: exclude the .mts files and skip the oversized ones in the pipeline
        // file; forget the missing files (gone for good now); copy the archive again at the source;
        // fix the permission; the server recovers; retry every failed item.
        try writePipeline(sandbox, server: server, sourceKeys: "exclude: [\"**/*.mts\"]\n  max_size: \(Self.sizeLimit)")
        // Excluded now: the .mts files are no longer this pipeline's failures, and are said to be left alone.
        let excluded = try failures(sandbox)
        #expect(excluded.status == 1 && excluded.output.contains("9 failed items") && !excluded.output.contains("unsupported type")
                && excluded.output.contains("2 failed items are no longer selected by the source's `include:`/`exclude:`"), "\(excluded.output)")
        for path in ["/gone/g1.jpg", "/gone/g2.jpg"] { try FileManager.default.removeItem(atPath: remote + path) }
        try server.control(["missing": NSNull(), "drop_after": NSNull(), "only": NSNull()])
        let forgot = try PipelineProcess.run(["forget", "--missing", "-f", "pipeline.yml"], in: sandbox.root, environment: Self.environment)
        #expect(forgot.status == 0 && forgot.output.contains("forgot 2 items"), "\(forgot.output)\n\(forgot.error)")
        try Command.output(["python3", "-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w'); z.writestr('a.txt', 'fixed ' * 100); z.close()",
                            remote + "/archives/broken.zip"])
        try lock(locked, false)
        let retried = try PipelineProcess.run(["retry", "--all-failed", "-f", "pipeline.yml"], in: sandbox.root, environment: Self.environment)
        #expect(retried.status == 0, "\(retried.output)\n\(retried.error)")

        let second = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root, environment: Self.environment, timeout: 300)
        #expect(second.status == 0, "\(second.output)\n\(second.error)")
        let after = try failures(sandbox)
        #expect(after.status == 0 && after.output == "no failed items", "\(after.output)")
        let arrived = Set(sandbox.files(in: sandbox.destination).keys)
        #expect(arrived == ["/ok/a.jpg", "/ok/b.jpg", "/locked/p1.jpg", "/locked/p2.jpg", "/archives/broken.zip", "/flaky/f1.jpg", "/flaky/f2.jpg"])
    }
}
}
