import Testing
@testable import Transfer

@Suite("File names that are not UTF-8 round-trip through text")
struct FileNameBytesTests {
    @Test("round trip", arguments: [
        Array("plain.jpg".utf8), Array("caf".utf8) + [0xE9] + Array(".jpg".utf8), [0xFF, 0xFE, 0x80], [0xC3],
        Array("caf\u{EFE9}.jpg".utf8), Array("a%41.jpg".utf8), Array("ü – 日本.mkv".utf8), [0xED, 0xA0, 0x80],
    ])
    func roundTrip(bytes: [UInt8]) {
        let text = FileNameBytes.text(bytes)
        #expect(FileNameBytes.bytes(text) == bytes)
    }

    @Test func validNamesAreUnchanged() {
        for name in ["plain.jpg", "a%41.jpg", "ü – 日本.mkv", ".hidden", "x\ny"] {
            #expect(FileNameBytes.text(Array(name.utf8)) == name)
        }
    }

    @Test func distinctBytesGiveDistinctText() {
        let escaped = FileNameBytes.text(Array("caf".utf8) + [0xE9])
        let lookalike = FileNameBytes.text(Array("caf\u{EFE9}".utf8))
        #expect(escaped != lookalike)
    }

    @Test func messagesShowTheBytesAndURLsCarryThem() {
        let latin1 = FileNameBytes.text(Array("caf".utf8) + [0xE9] + Array(" 1.jpg".utf8))
        #expect(FileNameBytes.shown(latin1) == #"caf\xE9 1.jpg"#)
        #expect(FileNameBytes.shown("ü.jpg") == "ü.jpg")
        #expect(RemoteEndpoint.encode(latin1[...]) == "caf%E9%201.jpg", "the byte itself, not the UTF-8 of its stand-in")
        #expect(RemoteEndpoint.encode("ü%41.jpg") == "%C3%BC%2541.jpg")
    }
}
