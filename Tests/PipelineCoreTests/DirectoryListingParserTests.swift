import Testing
@testable import Transfer

@Suite("FTP directory listings")
struct DirectoryListingParserTests {
    @Test func mlsdGivesExactSizesAndUTCTimes() {
        let file = DirectoryListingParser.mlsdEntry("modify=20200102030405;perm=r;size=6;type=file;unique=801g1;UNIX.mode=0644; a b [c].txt")
        #expect(file == RemoteEntry(name: "a b [c].txt", kind: .file, size: 6, modified: "2020-01-02T03:04:05Z", unique: "801g1"))
        let directory = DirectoryListingParser.mlsdEntry("modify=20200102030405.123;perm=el;type=dir;unique=802g2; -leading dash")
        #expect(directory?.kind == .directory)
        #expect(directory?.name == "-leading dash")
        #expect(directory?.modified == "2020-01-02T03:04:05Z")
        #expect(DirectoryListingParser.mlsdEntry("type=cdir;unique=1; .") == nil)
        #expect(DirectoryListingParser.mlsdEntry("type=pdir;unique=2; ..") == nil)
        #expect(DirectoryListingParser.mlsdEntry("type=OS.unix=slink:/x;unique=3; loop")?.kind == .link)
    }

    @Test("Unix LIST lines", arguments: [
        ("-rw-r--r--   1 alice staff     1234 Jan 02  2020 holiday photo.jpg", RemoteEntry(name: "holiday photo.jpg", kind: .file, size: 1234)),
        ("drwxr-xr-x   2 alice staff     4096 Dec 31 23:59 2024 [trip]", RemoteEntry(name: "2024 [trip]", kind: .directory, size: 4096)),
        ("-rw-r--r-- 1 1000 1000 5 Mar  7 09:01 -dash ü.jpg", RemoteEntry(name: "-dash ü.jpg", kind: .file, size: 5)),
        ("lrwxrwxrwx   1 alice staff        1 Jan 02  2020 loop -> .", RemoteEntry(name: "loop", kind: .link, size: 1)),
        ("-rw-r--r--   1 ftp        12345678901 Feb 29  2024 big.mkv", RemoteEntry(name: "big.mkv", kind: .file, size: 12_345_678_901)),
        ("-rw-r--r--   1 alice staff     7 Jan 02  2020   two leading spaces", RemoteEntry(name: "  two leading spaces", kind: .file, size: 7)),
    ])
    func unixListLines(line: String, expected: RemoteEntry) {
        #expect(DirectoryListingParser.listEntry(line) == expected)
    }

    @Test("DOS LIST lines", arguments: [
        ("01-02-20  03:04PM       <DIR>          My Folder", RemoteEntry(name: "My Folder", kind: .directory)),
        ("01-02-20  03:04PM             123456 clip (1).mp4", RemoteEntry(name: "clip (1).mp4", kind: .file, size: 123_456)),
    ])
    func dosListLines(line: String, expected: RemoteEntry) {
        #expect(DirectoryListingParser.listEntry(line) == expected)
    }

    @Test func noiseIsNotAnEntry() {
        for line in ["total 12", "", "drwxr-xr-x 2 a b 4096 Jan 02 2020 .", "drwxr-xr-x 2 a b 4096 Jan 02 2020 ..", "garbage line"] {
            #expect(DirectoryListingParser.listEntry(line) == nil, "\(line)")
        }
    }

    @Test func urlsEscapeEveryAwkwardName() throws {
        let endpoint = try RemoteEndpoint(url: "ftp://127.0.0.1:2121/photos", username: "alice", password: "pw",
                                          security: .none, caFile: nil, insecure: false)
        #expect(endpoint.basePath == "/photos/")
        #expect(endpoint.url(for: "/photos/2024 [trip]/-dash ü#%.jpg") == "ftp://127.0.0.1:2121/photos/2024%20%5Btrip%5D/-dash%20%C3%BC%23%25.jpg")
        #expect(endpoint.displayName == "ftp://alice@127.0.0.1:2121/photos/")
        #expect(throws: EndpointError.self) {
            try RemoteEndpoint(url: "ftp://alice:secret@host/", username: nil, password: nil, security: .none, caFile: nil, insecure: false)
        }
        #expect(throws: EndpointError.self) {
            try RemoteEndpoint(url: "http://host/", username: nil, password: nil, security: .none, caFile: nil, insecure: false)
        }
    }
}
