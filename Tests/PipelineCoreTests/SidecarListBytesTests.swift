import Foundation
import Testing
@testable import BuiltinStages

@Suite("SHA256SUMS lists are read byte-wise")
struct SidecarListBytesTests {
    static let hex = String(repeating: "ab", count: 32)

    @Test func aListWithALatin1NameStillGivesTheOtherEntries() {
        let bytes = Array("\(Self.hex)  good.jpg\n\(Self.hex) *caf".utf8) + [0xE9] + Array(".jpg\n".utf8)
        let entries = SidecarFiles.parseList(bytes, hexLength: 64)
        #expect(entries[Array("good.jpg".utf8)] == Self.hex)
        #expect(entries[Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)] == Self.hex)
    }

    @Test func namesWithPercentAndSpacesAreKeptAsWritten() {
        let entries = SidecarFiles.parseList(Array("\(Self.hex.uppercased())  ./a%41 b.jpg\r\n".utf8), hexLength: 64)
        #expect(entries[Array("a%41 b.jpg".utf8)] == Self.hex)
    }

    @Test func otherLinesAreIgnored() {
        #expect(SidecarFiles.parseList(Array("# comment\nxyz  name\n\(Self.hex)name\n".utf8), hexLength: 64).isEmpty)
    }
}
