import Foundation
import PipelineCore

/// `checksum`: checks the local file's size against the listing and computes its digest, streaming.
///
/// A size that differs, or a digest that differs from one the source reported (an item's
/// `extra.sha256`, say), is bad input: the item goes back to the stage that fetched it.
struct ChecksumStage: Stage {
    static let descriptor = StageDescriptor(
        name: "checksum",
        summary: "checks the size and computes a digest (sha256, sha1, sha512, md5, …), streaming",
        parameters: [
            .init("algorithm", "sha256 (default), sha1, sha224, sha384, sha512 or md5"),
            .init("rate_limit", "bytes per second at most, such as 200MB"),
        ],
        factory: .item { setup in
            let algorithm = setup.parameters["algorithm"]?.stringValue ?? "sha256"
            guard Digest.algorithms.contains(algorithm) else {
                throw setup.location.error(NameSuggester.unknown("checksum algorithm", algorithm, valid: Digest.algorithms))
            }
            return ChecksumStage(algorithm: algorithm, rateLimit: try setup.byteSize("rate_limit"))
        }
    )

    let algorithm: String
    let rateLimit: ByteSize?

    func run(_ context: StageContext) async throws -> StageResult {
        try await Blocking.run { try verify(context) }
    }

    private func verify(_ context: StageContext) throws -> StageResult {
        let file = try context.requireInputFile()
        guard let size = FileStream.size(of: file) else {
            throw StageFailure(.badInput, "the local file '\(file)' is missing")
        }
        guard size == context.item.size else {
            throw StageFailure(.badInput, "size mismatch: the local file has \(size) bytes, the source listed \(context.item.size)")
        }
        guard let digest = Digest(algorithm: algorithm) else {
            throw StageFailure.permanent("OpenSSL does not provide \(algorithm)")
        }
        let copier = StreamingCopy(context: context, rateLimit: rateLimit, total: size)
        _ = try copier.stream(from: try FileStream(path: file, mode: .read), startingAt: 0) { bytes in digest.update(bytes) }
        let hex = digest.finalizeHex()
        if let expected = context.item.extra[algorithm]?.stringValue?.lowercased(), expected != hex {
            throw StageFailure(.badInput, "\(algorithm) mismatch: expected \(expected), got \(hex)")
        }
        return .done([algorithm: .string(hex), StageOutputs.size: .number(Double(size))])
    }
}
