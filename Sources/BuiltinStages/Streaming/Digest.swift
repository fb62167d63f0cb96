/// A digest computed while a file streams past: fed chunk by chunk, read once at the end.
///
/// Several digests share one pass over the file (`DigestSet`), so asking for four costs one read.
protocol Digest: AnyObject {
    func update(_ bytes: UnsafeRawBufferPointer)
    /// Lowercase hex, as `sha256sum` prints it (CRC-32: eight digits, as `.sfv` files and
    /// Python's `format(zlib.crc32(data), "08x")` write it). No updates afterwards.
    func finalizeHex() -> String
}

/// The digest algorithms `checksum` offers, by the names the YAML uses.
enum DigestAlgorithm: String, CaseIterable, Sendable {
    case sha256, sha1, sha512, sha384, sha224, md5, crc32

    /// Hex digits in the digest; tells a digest apart from other words in a server's reply.
    var hexLength: Int {
        switch self {
        case .sha256: return 64
        case .sha1: return 40
        case .sha512: return 128
        case .sha384: return 96
        case .sha224: return 56
        case .md5: return 32
        case .crc32: return 8
        }
    }

    func makeDigest() -> (any Digest)? {
        switch self {
        case .crc32: return CRC32Digest()
        default: return OpenSSLDigest(name: rawValue)
        }
    }
}

/// Several digests fed from one pass over the data.
final class DigestSet {
    private let digests: [(algorithm: DigestAlgorithm, digest: any Digest)]

    /// Nil if the crypto library lacks one of them.
    init?(_ algorithms: [DigestAlgorithm]) {
        var digests: [(DigestAlgorithm, any Digest)] = []
        for algorithm in algorithms {
            guard let digest = algorithm.makeDigest() else { return nil }
            digests.append((algorithm, digest))
        }
        self.digests = digests
    }

    func update(_ bytes: UnsafeRawBufferPointer) {
        for entry in digests { entry.digest.update(bytes) }
    }

    func finalizeHex() -> [DigestAlgorithm: String] {
        Dictionary(uniqueKeysWithValues: digests.map { ($0.algorithm, $0.digest.finalizeHex()) })
    }
}
