import Testing
@testable import PipelineCore

@Suite("Work paths never leave their directory")
struct WorkPathTests {
    @Test("hostile names stay inside the root", arguments: [
        "/../../etc/passwd", "/a/../../b", "..", "/./x", "//double//slash", "/tab\there", "/new\nline", "/nul\u{0}byte", "/%2E%2E/x",
    ])
    func hostileNamesStayInside(name: String) {
        let path = WorkPath(itemPath: name, root: "/work")
        #expect(path.absolute.hasPrefix("/work/"))
        #expect(!path.relative.split(separator: "/").contains { $0 == ".." || $0 == "." || $0.isEmpty })
        #expect(!path.relative.unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func distinctNamesStayDistinct() {
        let names = ["/a/..", "/a/%2E%2E", "/a/.", "/a/%2E", "/x\ny", "/x%0Ay"]
        let mapped = Set(names.map { WorkPath(itemPath: $0, root: "/w").relative })
        #expect(mapped.count == names.count)
    }

    @Test func ordinaryNamesAreKept() {
        let path = WorkPath(itemPath: "/Movies/Avatar 3D (2009)/Avatar [1080p] – ü.mkv", root: "/work/")
        #expect(path.absolute == "/work/Movies/Avatar 3D (2009)/Avatar [1080p] – ü.mkv")
        #expect(path.partial == path.absolute + "%partial")
    }

    @Test func overLongSegmentsAreShortenedStably() {
        let long = "/" + String(repeating: "é", count: 300) + ".jpg"
        let first = WorkPath(itemPath: long, root: "/w"), second = WorkPath(itemPath: long, root: "/w")
        #expect(first == second)
        #expect(first.relative.utf8.count <= 220)
    }

    @Test func noNameReachesAnotherItemsUnfinishedCopy() {
        let long = String(repeating: "x", count: 250)
        let names = ["/v.mp4", "/v.mp4.partial", "/v.mp4%partial", "/v.mp4%25partial", "/v.mp4%2Fpartial", "/" + long,
                     "/" + String(long.prefix(180)) + "%~" + String(FNV1a.hash(long), radix: 16), "/" + long + "%partial"]
        let paths = names.map { WorkPath(itemPath: $0, root: "/w") }
        let finals = Set(paths.map(\.absolute)), partials = Set(paths.map(\.partial))
        #expect(finals.count == names.count)
        #expect(finals.isDisjoint(with: partials))
    }
}
