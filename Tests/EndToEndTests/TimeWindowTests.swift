import Foundation
import Testing

extension EndToEnd {
/// With the built binary: a run outside a `schedule: windows:` window does the rest, leaves the
/// windowed items pending with a notice and exits 75; a run inside the window does them. The
/// windows are chosen around the real current time, in a time zone that is not the machine's.
@Suite("Time windows")
struct TimeWindowTests {
    static let zone = TimeZone(identifier: "Asia/Tokyo")!

    /// `HH:MM` in Tokyo, `minutes` from now.
    static func clock(_ minutes: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: Date().addingTimeInterval(Double(minutes) * 60))
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    func writePipeline(_ sandbox: Sandbox, between: String) throws {
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """, settings: """
            concurrency: 1
            schedule:
              priority:
                - match: ["**/*.jpg"]
              windows:
                - match: ["**/*.mp4", "**/*.mov"]
                  larger_than: 4000
                  between: "\(between)"
                  time_zone: Asia/Tokyo
            """)
    }

    @Test func aRunOutsideTheWindowDoesTheRestAndOneInsideDoesTheWindowedItems() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        for (path, size) in [("/photos/a.jpg", 1000), ("/videos/clip.mp4", 5000), ("/photos/b.jpg", 1200), ("/videos/long.mov", 6000),
                             ("/videos/short.mp4", 100)] {
            try sandbox.write(path, bytes: [UInt8](repeating: UInt8(size % 251), count: size))
        }
        // Closed: it opens in two hours and lasts two.
        let closed = "\(Self.clock(120))-\(Self.clock(240))"
        try writePipeline(sandbox, between: closed)

        let dry = try PipelineProcess.run(["run", "pipeline.yml", "--dry-run"], in: sandbox.root)
        #expect(dry.status == 0, "\(dry.error)")
        let shown = dry.output.split(separator: "\n").map(String.init)
        #expect(shown.prefix(3) == ["new       /photos/a.jpg at fetch", "new       /photos/b.jpg at fetch", "new       /videos/short.mp4 at fetch"], "\(dry.output)")
        #expect(shown.contains { $0.hasPrefix("waiting   /videos/clip.mp4 for its window \(closed.replacingOccurrences(of: "-", with: "–")) Asia/Tokyo") }, "\(dry.output)")

        let outside = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
        #expect(outside.status == 75, "\(outside.output)\n\(outside.error)")
        let notice = "2 items wait for their window \(closed.replacingOccurrences(of: "-", with: "–")) Asia/Tokyo, which opens in "
        let said = (outside.output + "\n" + outside.error).split(separator: "\n").first { $0.contains(notice) }.map(String.init) ?? ""
        #expect(said.hasSuffix("opens in 2 h") || said.hasSuffix("opens in 1 h 59 min") || said.hasSuffix("opens in 1 h 58 min"),
                "\(outside.output)\n\(outside.error)")
        #expect(Set(sandbox.files(in: sandbox.destination).keys) == ["/photos/a.jpg", "/photos/b.jpg", "/videos/short.mp4"])
        let items = try sandbox.statusItems()
        for path in ["/videos/clip.mp4", "/videos/long.mov"] {
            #expect(items[path]?["status"] as? String == "pending", "\(items[path] ?? [:])")
            #expect((items[path]?["failures"] as? Int ?? 0) == 0)
        }

        // Open: it began an hour ago and lasts three.
        try writePipeline(sandbox, between: "\(Self.clock(-60))-\(Self.clock(120))")
        let inside = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "plain"], in: sandbox.root)
        #expect(inside.status == 0, "\(inside.output)\n\(inside.error)")
        #expect(!inside.output.contains("wait for their window"))
        let arrived = sandbox.files(in: sandbox.destination)
        #expect(Set(arrived.keys) == ["/photos/a.jpg", "/photos/b.jpg", "/videos/short.mp4", "/videos/clip.mp4", "/videos/long.mov"])
        #expect(arrived["/videos/long.mov"]?.count == 6000)
    }
}
}
