import Testing
@testable import BuiltinStages

@Suite("Digests in one pass")
struct DigestSetTests {
    /// The same bytes, fed in uneven chunks, give the same digests on one thread and on two.
    @Test func twoThreadsGiveWhatOneGives() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes: [UInt8] = (0..<(3 << 20) + 17).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let algorithms: [DigestAlgorithm] = [.sha256, .sha1, .md5, .crc32, .sha512]
        func digests(parallel: Bool) throws -> [DigestAlgorithm: String] {
            let set = try #require(DigestSet(algorithms, parallel: parallel))
            var offset = 0
            var chunk = 1
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                bytes[offset..<end].withUnsafeBytes { set.update($0) }
                offset = end
                chunk = chunk * 3 + 7
            }
            return set.finalizeHex()
        }
        let serial = try digests(parallel: false)
        #expect(try digests(parallel: true) == serial)
        #expect(serial[.crc32]?.count == 8 && serial[.sha256]?.count == 64)
    }
}
