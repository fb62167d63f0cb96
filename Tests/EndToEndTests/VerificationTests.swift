import Foundation
import Testing

extension EndToEnd {
@Suite("Verification")
struct VerificationTests {
    @Test func aChecksumMismatchRefetchesThenFailsAndIsNeverUploaded() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        // write-fixed fetches 100 "x" bytes; the source claims digests for them.
        let listing: [[String: Any]] = [
            ["path": "/good.bin", "size": 100, "extra": ["sha256": Self.sha256OfHundredX]],
            ["path": "/bad.bin", "size": 100, "extra": ["sha256": String(repeating: "0", count: 64)]],
        ]
        try sandbox.writeListedPipeline(listing: listing, then: """
              - name: verify
                uses: checksum
                retry: { attempts: 2, backoff: [0s] }
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """)
        let run = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(run.status == 1, "\(run.error)")
        let events = PipelineProcess.events(in: run.output)
        let badFetches = events.filter { $0.event("stage_started", stage: "fetch") && $0["path"] as? String == "/bad.bin" }
        #expect(badFetches.count == 2, "a mismatch sends the item back to fetch once, within verify's 2 attempts")
        #expect(events.contains { $0.event("went_back") && $0["path"] as? String == "/bad.bin" })
        #expect(Set(sandbox.files(in: sandbox.destination).keys) == ["/good.bin"])
        let items = try sandbox.statusItems()
        #expect(items["/good.bin"]?["status"] as? String == "completed")
        #expect(items["/bad.bin"]?["status"] as? String == "failed")
        #expect((items["/bad.bin"]?["last_error"] as? String)?.contains("sha256 mismatch") == true)
        let verify = (items["/good.bin"]?["stages"] as? [String: Any])?["verify"] as? [String: Any]
        #expect((verify?["outputs"] as? [String: Any])?["sha256"] as? String == Self.sha256OfHundredX)
    }

    /// `printf 'x%.0s' $(seq 100) | sha256sum`
    static let sha256OfHundredX = "09ecb6ebc8bcefc733f6f2ec44f791abeed6a99edf0cc31519637898aebd52d8"
}
}
