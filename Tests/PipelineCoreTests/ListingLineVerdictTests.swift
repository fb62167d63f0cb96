import Testing
@testable import Transfer

/// A listing line is an entry, harmless noise, or unreadable — never silently nothing.
@Suite("What a listing line is")
struct ListingLineVerdictTests {
    @Test(arguments: ["total 12", "insgesamt 48", "totale 3", "total 1.5M", "", "   ",
                      "drwxr-xr-x 2 a b 4096 Jan 02  2020 .", "drwxr-xr-x 2 a b 4096 Jan 02  2020 ..",
                      "05-01-24  10:00AM  <DIR>  ."])
    func noiseIsPassedOver(line: String) {
        #expect(DirectoryListingParser.listLine(line) == .ignored)
    }

    @Test(arguments: [
        "garbage line",
        "-rw-r--r-- 1 ftp ftp 12 Foo 29 10:00 unknown-month.jpg",
        "-rw-r--r-- 1 ftp ftp 12 Nov 32 10:00 day-32.jpg",
        "-rw-r--r-- 1 ftp ftp 12 Nov 29 25:00 hour-25.jpg",
        "-rw-r--r-- 1 ftp ftp 99999999999999999999 Nov 29 10:00 size-beyond-int64.jpg",
        "-rw-r--r-- 1 ftp ftp 12 Nov 29 10:00",
        "-rw-r--r-- 1 ftp ftp twelve Nov 29 10:00 words.jpg",
        "+i8388621.29609,m824255902,/,\tdeleted.jpg",
        "05-01-24  10:00AM  -5 negative.jpg",
    ])
    func anUnreadableLineIsSaidToBe(line: String) {
        #expect(DirectoryListingParser.listLine(line) == .unrecognized, "\(line)")
    }

    @Test func mlsdLinesWithoutANameAreUnreadableAndDotsArePassedOver() {
        #expect(DirectoryListingParser.mlsdLine("type=file;size=3;") == .unrecognized)
        #expect(DirectoryListingParser.mlsdLine("type=file;size=3; ") == .unrecognized)
        #expect(DirectoryListingParser.mlsdLine("type=cdir; /photos") == .ignored)
        #expect(DirectoryListingParser.mlsdLine("type=dir; ..") == .ignored)
        #expect(DirectoryListingParser.mlsdLine("") == .ignored)
    }

    @Test func aListedNameThatIsNotUTF8IsReadWithItsBytes() {
        let line = FileNameBytes.text(Array("-rw-r--r-- 1 owner group 5 Mar 05 10:10 caf".utf8) + [0xE9] + Array(".jpg".utf8))
        guard case .entry(let entry) = DirectoryListingParser.listLine(line) else { Issue.record("not read: \(line)"); return }
        #expect(FileNameBytes.bytes(entry.name) == Array("caf".utf8) + [0xE9] + Array(".jpg".utf8))
        #expect(FileNameBytes.shown(FileNameBytes.text([0xFF, 0x41, 0xC3])) == "\\xFFA\\xC3")
    }

    @Test func ftp421IsTheServerRefusingNotATimeout() {
        let failure = CurlFailure(code: 28, message: "Timeout was reached", responseCode: 421)
        #expect(failure.message.contains("too many connections"))
        #expect(!failure.message.contains("Timeout"))
        #expect(failure.disposition == .retry)
    }

    @Test func aVanishedFileConcernsOnlyItself() {
        #expect(CurlFailure(code: 78, message: "The file does not exist", responseCode: 550).concernsOnlyThisPath)
        #expect(!CurlFailure(code: 7, message: "Couldn't connect", responseCode: 0).concernsOnlyThisPath)
    }
}
