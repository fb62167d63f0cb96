import Foundation
import Testing

extension EndToEnd {
/// An FTP listing never loses an entry silently: every LIST format a server prints is read, a
/// line that cannot be read fails the listing, and an entry that cannot be listed is named.
@Suite("FTP listings lose nothing silently")
struct ListingLossTests {
    let ftp = FTPTests()

    /// Three files in two folders (names with spaces), dated in March so localized month names
    /// differ from English ones.
    func marchTree(_ sandbox: Sandbox) throws -> Set<String> {
        let paths = ["/a b.jpg", "/Sommer 2024/c (1).jpg", "/Sommer 2024/d.mov"]
        for path in paths {
            try ftp.remoteFile(sandbox, path, size: 1000)
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_709_633_400)],
                                                  ofItemAtPath: sandbox.root + "/remote" + path)  // 2024-03-05 10:10 UTC
        }
        return Set(paths)
    }

    func writeListOnlyPipeline(_ sandbox: Sandbox, server: FTPServer, listing: String = "auto", sourceKeys: String = "") throws {
        try ftp.writeCurlListPipeline(sandbox, url: server.url, source: ", listing: \(listing)", sourceKeys: sourceKeys, stages: """
              - name: cleanup
                uses: delete-local
            """)
    }

    @Test("every LIST style lists every file", arguments: ["de", "fr", "dos", "long-iso", "iso-t", "full-iso"])
    func everyListStyleListsEveryFile(style: String) throws {
        let sandbox = try Sandbox("list-style-\(style)")
        defer { sandbox.remove() }
        let server = try ftp.serve(sandbox, ["--no-mlsd", "--list-style", style])
        let expected = try marchTree(sandbox)
        try writeListOnlyPipeline(sandbox, server: server)
        let result = try ftp.run(sandbox)
        #expect(result.status == 0, "\(result.output.suffix(600)) \(result.error)")
        #expect(Set(try sandbox.statusItems().keys) == expected)
    }

    @Test func anUnreadableListLineFailsTheListingAndQuotesIt() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try ftp.serve(sandbox, ["--no-mlsd", "--list-extra", "+i8388621.29609,m824255902,/,\tmystery.jpg"])
        _ = try marchTree(sandbox)
        try writeListOnlyPipeline(sandbox, server: server)
        let result = try ftp.run(sandbox)
        #expect(result.status == 69, "\(result.output.suffix(600))")
        let said = result.output + result.error
        #expect(said.contains("mystery.jpg") && said.contains("cannot read"), "\(said.suffix(600))")
    }

    @Test func aFileGoneBeforeSizeIsLeftOutWithAWarningAndTheRestIsListed() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try ftp.serve(sandbox, ["--no-mlsd", "--list-extra", "-rw-r--r--   1 owner    group        5 Mar 05 10:10 gone.jpg"])
        let expected = try marchTree(sandbox)
        try writeListOnlyPipeline(sandbox, server: server)
        let result = try ftp.run(sandbox)
        #expect(result.status == 0, "\(result.output.suffix(600))")
        #expect(Set(try sandbox.statusItems().keys) == expected)
        #expect(result.output.contains("'/gone.jpg' is not listed"), "\(result.output.suffix(600))")
    }

    @Test("names that are not UTF-8 arrive byte-exact", arguments: ["list", "mlsd"])
    func namesThatAreNotUTF8ArriveByteExact(listing: String) throws {
        let sandbox = try Sandbox("not-utf8-\(listing)")
        defer { sandbox.remove() }
        let server = try ftp.serve(sandbox, ["--raw-names"] + (listing == "list" ? ["--no-mlsd"] : []))
        let expected = try marchTree(sandbox)
        let name: [UInt8] = Array("/caf".utf8) + [0xE9] + Array(".jpg".utf8)
        try UndecodableNameTests.write(UndecodableNameTests.path(sandbox.root + "/remote", name), Array("latin-1".utf8))
        try ftp.writeFTPPipeline(sandbox, server: server, source: ", listing: \(listing)")
        let result = try ftp.run(sandbox)
        #expect(result.status == 0, "\(result.output.suffix(600))")
        #expect(try sandbox.statusItems().count == expected.count + 1, "the Latin-1 name is listed and recorded")
        #expect(UndecodableNameTests.read(UndecodableNameTests.path(sandbox.destination, name)) == Array("latin-1".utf8),
                "it arrives under its own bytes: \(result.output.suffix(600))")
    }

    @Test func anExcludedFolderIsNotEntered() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try ftp.serve(sandbox)
        let expected = try marchTree(sandbox)
        try ftp.remoteFile(sandbox, "/private/deep/secret.jpg", size: 10)
        try writeListOnlyPipeline(sandbox, server: server, sourceKeys: "exclude: [private]")
        let result = try ftp.run(sandbox)
        #expect(result.status == 0, "\(result.output.suffix(600))")
        #expect(Set(try sandbox.statusItems().keys) == expected)
        let entered = server.events.filter { ($0["arg"] as? String ?? "").contains("private") }
        #expect(entered.isEmpty, "the excluded folder was entered: \(entered)")
    }

    /// Starts a run against a server that never answers a listing, and waits until it asked. The
    /// caller keeps the server: released, it is killed, and the listing fails at once instead of
    /// hanging (which is how these tests once passed on code that could not stop a listing).
    func runWaitingForAListing(_ sandbox: Sandbox, _ extra: [String] = []) throws -> (run: PipelineProcess, server: FTPServer) {
        let server = try ftp.serve(sandbox, ["--stall-listings"])
        _ = try marchTree(sandbox)
        try writeListOnlyPipeline(sandbox, server: server)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"] + extra, in: sandbox.root, environment: FTPTests.environment)
        let deadline = Date().addingTimeInterval(30)
        while !server.events.contains(where: { ["MLSD", "LIST"].contains($0["cmd"] as? String) }), Date() < deadline, run.isRunning {
            usleep(50_000)
        }
        return (run, server)
    }

    /// The run printed no failed listing: the stop cut a hanging request, not a pause between tries.
    func noListingFailed(_ run: PipelineProcess) -> Bool {
        !run.events.contains { $0.event("warning") && ($0["message"] as? String ?? "").hasPrefix("listing failed") }
    }

    @Test func sigintWhileTheServerIsSlowToListStopsTheRunWithinSeconds() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let (run, server) = try runWaitingForAListing(sandbox)
        let signalled = Date()
        run.signal(SIGINT)
        let status = run.wait(timeout: 60)
        let elapsed = Date().timeIntervalSince(signalled)
        #expect(status == 75, "\(run.lines.suffix(3)) \(run.stderr)")
        #expect(elapsed < 5, "took \(elapsed) s to stop while listing")
        #expect(noListingFailed(run), "\(run.lines)")
        withExtendedLifetime(server) {}
    }

    @Test func aTimeBudgetEndsASlowListing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let began = Date()
        let (run, server) = try runWaitingForAListing(sandbox, ["--time-budget", "2s"])
        let status = run.wait(timeout: 60)
        let elapsed = Date().timeIntervalSince(began)
        #expect(status == 75, "\(run.lines.suffix(3)) \(run.stderr)")
        #expect(elapsed < 8, "a 2 s budget took \(elapsed) s while listing")
        #expect(noListingFailed(run), "\(run.lines)")
        withExtendedLifetime(server) {}
    }

    @Test func tooManyConnectionsIsReportedAsSuchAndRetried() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let server = try ftp.serve(sandbox, ["--too-many-connections"])
        try writeListOnlyPipeline(sandbox, server: server, sourceKeys: "retry: { attempts: 2, backoff: [0s] }")
        let result = try ftp.run(sandbox)
        #expect(result.status == 69, "\(result.output.suffix(600))")
        #expect(result.output.contains("too many connections"), "\(result.output.suffix(600))")
        #expect(result.output.contains("try 2"), "a refused connection was not retried")
        #expect(!result.output.contains("Timeout"))
    }
}
}
