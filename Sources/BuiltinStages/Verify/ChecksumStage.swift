import Foundation
import PipelineCore
import Transfer

/// `checksum`: checks the local copy's size and computes its digests in one streaming pass, then
/// compares them with what the source says the file is — a digest in the listing, a sidecar or
/// `SHA256SUMS` beside it, or the FTP server's own hash of it.
///
/// A difference is bad input: the copy is deleted and the item goes back to the stage that
/// fetched it; after `max_mismatches` differences in a run it fails with both digests.
struct ChecksumStage: Stage {
    static let descriptor = StageDescriptor(
        name: "checksum",
        summary: "checks the size and computes digests (sha256, sha1, md5, crc32, …) in one pass; compares with sidecars or the server",
        parameters: [
            .init("algorithms", "digests to compute in one pass: [sha256, sha1, md5, crc32] (also sha224, sha384, sha512); default [sha256]"),
            .init("algorithm", "a single digest (the same as algorithms: [NAME])"),
            .init("expect", "where the truth comes from: none (record only, the default), sidecar (NAME.sha256, SHA256SUMS, … on the source) or server (FTP XSHA256/XSHA1/XMD5/XCRC/HASH)"),
            .init("max_mismatches", "differences in a run before the item fails (default 2: one refetch)"),
            .init("rate_limit", "bytes per second at most, such as 200MB"),
        ],
        factory: .item { setup in try ChecksumStage(setup) }
    )

    enum Expectation: String, CaseIterable, Sendable {
        case none, sidecar, server
    }

    let algorithms: [DigestAlgorithm]
    let expectation: Expectation
    let maxMismatches: Int
    let rateLimit: ByteSize?
    let sidecars: SidecarFiles?
    let server: RemoteEndpoint?

    init(_ setup: StageSetup) throws {
        var names: [String] = []
        if case .array(let values)? = setup.parameters["algorithms"] {
            names = values.compactMap(\.stringValue)
        } else if let single = setup.parameters["algorithms"]?.stringValue ?? setup.parameters["algorithm"]?.stringValue {
            names = [single]
        }
        var algorithms: [DigestAlgorithm] = []
        for name in names.isEmpty ? ["sha256"] : names {
            guard let algorithm = DigestAlgorithm(rawValue: name.lowercased()) else {
                throw setup.location.error(NameSuggester.unknown("checksum algorithm", name, valid: DigestAlgorithm.allCases.map(\.rawValue)))
            }
            if !algorithms.contains(algorithm) { algorithms.append(algorithm) }
        }
        self.algorithms = algorithms
        let expectText = setup.parameters["expect"]?.stringValue ?? "none"
        guard let expectation = Expectation(rawValue: expectText) else {
            throw setup.location.error(NameSuggester.unknown("expect", expectText, valid: Expectation.allCases.map(\.rawValue)))
        }
        self.expectation = expectation
        maxMismatches = try setup.wholeNumber("max_mismatches", in: 1...Int64.max) ?? 2
        rateLimit = try setup.byteSize("rate_limit")

        let sourceURL = setup.sourceParameters["url"]?.stringValue
        switch expectation {
        case .none:
            sidecars = nil
            server = nil
        case .sidecar:
            if sourceURL != nil {
                sidecars = SidecarFiles(location: .remote(try RemoteConnection.endpoint(setup, inheriting: true)))
            } else {
                sidecars = SidecarFiles(location: .local(root: try setup.sourcePath("root")))
            }
            server = nil
        case .server:
            guard sourceURL != nil else {
                throw setup.location.error("stage '\(setup.stageName)': 'expect: server' needs an FTP source (curl-list with a url)")
            }
            sidecars = nil
            server = try RemoteConnection.endpoint(setup, inheriting: true)
        }
    }

    func run(_ context: StageContext) async throws -> StageResult {
        try await Blocking.run { try verify(context) }
    }

    private func verify(_ context: StageContext) throws -> StageResult {
        let file = try context.requireInputFile()
        guard let size = FileStream.size(of: file) else {
            throw StageFailure(.badInput, "the local file '\(file)' is missing")
        }
        guard size == context.item.size else {
            throw StageFailure(.badInput, "size mismatch: the local file has \(size) bytes, the source listed \(context.item.size)",
                               backtrackLimit: maxMismatches - 1, category: .corruptSource)
        }
        // What to compare with is found first, so its algorithm joins the single pass.
        var expected = sourceListingDigests(context.item)
        if let published = try publishedDigest(for: context.item.path, context: context) { expected.append(published) }
        let wanted = algorithms + expected.map(\.algorithm).filter { !algorithms.contains($0) }
        guard let digests = DigestSet(wanted) else {
            throw StageFailure.permanent("OpenSSL does not provide one of \(wanted.map(\.rawValue).joined(separator: ", "))")
        }
        let computed = try digests.digests(of: file, reading: StreamingCopy(context: context, rateLimit: rateLimit, total: size))

        for truth in expected where computed[truth.algorithm] != truth.hex {
            throw StageFailure(.badInput, """
                source and copy differ: the copy's \(truth.algorithm.rawValue) is \(computed[truth.algorithm] ?? "?"), \
                \(truth.origin) says \(truth.hex)
                """, backtrackLimit: maxMismatches - 1, category: .corruptSource)
        }
        var outputs: [String: JSONValue] = [StageOutputs.size: .number(Double(size))]
        for (algorithm, hex) in computed { outputs[algorithm.rawValue] = .string(hex) }
        outputs["verified_against"] = .string(expected.isEmpty ? "none" : expected.map(\.origin).joined(separator: ", "))
        return .done(outputs)
    }

    /// Digests the source listed with the item (`extra.sha256` and the like).
    private func sourceListingDigests(_ item: SourceItem) -> [ExpectedDigest] {
        DigestAlgorithm.allCases.compactMap { algorithm in
            item.extra[algorithm.rawValue]?.stringValue.map {
                ExpectedDigest(algorithm: algorithm, hex: $0.lowercased(), origin: "the source listing")
            }
        }
    }

    /// The sidecar's or the server's digest, per `expect:`; nil when there is none to compare.
    private func publishedDigest(for path: String, context: StageContext) throws -> ExpectedDigest? {
        switch expectation {
        case .none:
            return nil
        case .sidecar:
            let found = try sidecars?.expectation(for: context.item, preferring: algorithms)
            if found == nil { context.log("no sidecar or checksum list for this file on the source; digests recorded only") }
            return found
        case .server:
            guard let server else { return nil }
            do {
                let hash = try ServerHash(endpoint: server)
                let candidates = algorithms + [.sha256, .sha1, .md5, .crc32].filter { !algorithms.contains($0) }
                for algorithm in candidates where hash.supports(algorithm.rawValue) {
                    if let hex = try hash.digest(of: path, algorithm: algorithm.rawValue, hexLength: algorithm.hexLength) {
                        return ExpectedDigest(algorithm: algorithm, hex: hex, origin: "the server (\(algorithm.rawValue))")
                    }
                }
                context.log("the server offers no file hash command (FEAT); digests recorded only")
                return nil
            } catch {
                throw RemoteConnection.failure(error, endpoint: server, path: path, stop: context.stop)
            }
        }
    }
}
