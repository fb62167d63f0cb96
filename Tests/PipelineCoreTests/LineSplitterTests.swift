import Foundation
import Testing
@testable import PipelineCore

@Suite("Stage output is cut into bounded lines in linear time")
struct LineSplitterTests {
    func pieces(_ chunks: [String], limit: Int = 8) -> [LineSplitter.Piece] {
        var splitter = LineSplitter(limit: limit)
        var result: [LineSplitter.Piece] = []
        for chunk in chunks { result += splitter.feed(Array(chunk.utf8)) }
        return result + splitter.finish()
    }

    @Test func linesAcrossChunksAreJoinedAndTheLastOneWithoutNewlineIsKept() {
        #expect(pieces(["ab", "c\nde\n", "f"]) == [.line("abc"), .line("de"), .line("f")])
        #expect(pieces(["\n\n"]) == [.line(""), .line("")])
    }

    @Test func aLineOverTheLimitBecomesOneOverlongPieceWithItsLengthAndTheNextLineIsIntact() {
        #expect(pieces(["12345", "6789\nok\n"]) == [.overlong(bytes: 9), .line("ok")])
        #expect(pieces(["123456789"]) == [.overlong(bytes: 9)])
        #expect(pieces(["12345678\n"]) == [.line("12345678")], "a line of exactly the limit is a line")
    }

    @Test func sixteenMiBOfCarriageReturnsWithoutNewlineIsReadQuickly() {
        var splitter = LineSplitter(limit: LineSplitter.standardLimit)
        let chunk = [UInt8](repeating: 13, count: 65536)
        var result: [LineSplitter.Piece] = []
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<256 { result += splitter.feed(chunk) }
            result += splitter.finish()
        }
        #expect(result == [.overlong(bytes: 16 << 20)])
        #expect(elapsed < .seconds(30), "a hang guard, not a benchmark: \(elapsed)")
    }

    @Test func manyShortLinesInOneChunkAreEachEmitted() {
        var splitter = LineSplitter(limit: LineSplitter.standardLimit)
        let text = String(repeating: "{\"type\":\"progress\",\"bytes\":1}\n", count: 100_000)
        let result = splitter.feed(Array(text.utf8))
        #expect(result.count == 100_000)
        #expect(result.last == .line("{\"type\":\"progress\",\"bytes\":1}"))
    }
}

@Suite("Secrets are masked line by line too")
struct SecretRedactorMultiLineTests {
    @Test func eachLineOfAMultiLineSecretIsMaskedAloneAndTogether() {
        let redactor = SecretRedactor(secrets: ["-----BEGIN KEY-----\nAAAAsecretbody\r\n-----END KEY-----"])
        #expect(redactor.redact("got AAAAsecretbody here") == "got [redacted] here")
        #expect(!redactor.redact("-----BEGIN KEY-----\nAAAAsecretbody\r\n-----END KEY-----").contains("AAAAsecretbody"))
        #expect(redactor.redact("x -----END KEY----- y") == "x [redacted] y")
    }

    @Test func shortLinesOfASecretAreNotMaskedEverywhere() {
        let redactor = SecretRedactor(secrets: ["ab\nlong-secret-line"])
        #expect(redactor.redact("ab cd") == "ab cd")
        #expect(redactor.redact("long-secret-line") == "[redacted]")
    }
}
