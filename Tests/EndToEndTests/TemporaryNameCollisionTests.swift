import Foundation
import Testing

extension EndToEnd {
/// Work copies and upload temporaries live where no source name can reach, and names reach the
/// destination exactly as the source spells them.
@Suite("Temporary names never collide with source names")
struct TemporaryNameCollisionTests {
    /// Names a naive temporary scheme would collide with: the old `.partial` suffix, the new
    /// `%partial` suffix and escapes of it, hidden names, and `%` sequences that look encoded.
    static let hostileNames = [
        "/v.mp4", "/v.mp4.partial", "/v.mp4.partial.partial", "/v.mp4%partial", "/v.mp4%25partial",
        "/.v.mp4", "/a%41.jpg", "/a%2541.jpg", "/%25", "/deep/er/v.mp4", "/deep/er/v.mp4.partial",
    ]

    @Test func everyFileArrivesByteIdenticalWhateverItsName() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        var generator = SplitMix(seed: 11)
        for (index, name) in Self.hostileNames.enumerated() {
            // Distinct sizes and bytes, the plain names largest, so a splice would show.
            let size = (name.hasSuffix("v.mp4") ? 3 << 20 : 1 << 20) + index * 977
            try sandbox.write(name, bytes: (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        }
        try sandbox.writeFetchPipeline(then: """
              - name: verify
                uses: checksum
                with: { algorithm: sha256 }
              - name: upload
                uses: local-upload
                with: { destination: dest, rate_limit: 16MB }
            """, settings: "concurrency: 4", fetchWith: "root: src, rate_limit: 8MB")
        let run = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root, timeout: 300)
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        let source = sandbox.files(in: sandbox.source), destination = sandbox.files(in: sandbox.destination)
        #expect(Set(destination.keys) == Set(source.keys), "the destination holds exactly the source's names")
        for (name, bytes) in source {
            #expect(destination[name] == bytes, "\(name) is byte-identical at the destination")
        }
        let items = try sandbox.statusItems()
        #expect(items.count == Self.hostileNames.count)
        #expect(items.values.allSatisfy { $0["status"] as? String == "completed" })
    }
}
}
