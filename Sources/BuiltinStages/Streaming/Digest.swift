import Foundation
import PipelineCore

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

    /// Time per byte relative to SHA-256 with the CPU's SHA instructions (measured with
    /// `pipeline checksum` here), to split several digests evenly over two threads.
    var relativeCost: Double {
        switch self {
        case .sha256, .sha224, .sha1: return 1
        case .md5: return 2.9
        case .sha512, .sha384: return 2.4
        case .crc32: return 0.3
        }
    }

    func makeDigest() -> (any Digest)? {
        switch self {
        case .crc32: return CRC32Digest()
        default: return OpenSSLDigest(name: rawValue)
        }
    }
}

/// Several digests fed from one pass over the data. With two or more and a second core, they are
/// split into two lanes of about equal cost, one of them fed by a `DigestWorker` thread.
final class DigestSet {
    private let digests: [(algorithm: DigestAlgorithm, digest: any Digest)]
    private let here: [any Digest]
    private let worker: DigestWorker?

    /// Nil if the crypto library lacks one of them.
    init?(_ algorithms: [DigestAlgorithm], parallel: Bool = ProcessInfo.processInfo.activeProcessorCount > 1) {
        var digests: [(DigestAlgorithm, any Digest)] = []
        for algorithm in algorithms {
            guard let digest = algorithm.makeDigest() else { return nil }
            digests.append((algorithm, digest))
        }
        self.digests = digests
        guard parallel, digests.count > 1 else {
            here = digests.map(\.1)
            worker = nil
            return
        }
        // Heaviest first, each to the lighter lane.
        var lanes: [[any Digest]] = [[], []]
        var costs = [0.0, 0.0]
        for (algorithm, digest) in digests.sorted(by: { $0.0.relativeCost > $1.0.relativeCost }) {
            let lane = costs[0] <= costs[1] ? 0 : 1
            lanes[lane].append(digest)
            costs[lane] += algorithm.relativeCost
        }
        here = lanes[0]
        worker = DigestWorker(digests: lanes[1])
    }

    /// A pass cut short (a stop, a read error) must not leave the worker's thread waiting forever.
    deinit { worker?.stop() }

    func update(_ bytes: UnsafeRawBufferPointer) {
        worker?.begin(bytes)
        for digest in here { digest.update(bytes) }
        worker?.finish()
    }

    /// Reads `path` once with `reader` (its stop signal, rate limit and progress) and returns the digests.
    func digests(of path: String, reading reader: StreamingCopy) throws(StageFailure) -> [DigestAlgorithm: String] {
        _ = try reader.stream(from: try FileStream(path: path, mode: .read), startingAt: 0) { bytes in update(bytes) }
        return finalizeHex()
    }

    func finalizeHex() -> [DigestAlgorithm: String] {
        worker?.stop()
        return Dictionary(uniqueKeysWithValues: digests.map { ($0.algorithm, $0.digest.finalizeHex()) })
    }
}
