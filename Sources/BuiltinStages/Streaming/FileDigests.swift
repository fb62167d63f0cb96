import PipelineCore

/// The `checksum` stage's digest pass for one file, outside a pipeline (`pipeline checksum`), so
/// users and benchmarks check files with exactly the code the stage runs.
public enum FileDigests {
    /// Names `pipeline checksum --algorithms` accepts.
    public static var algorithmNames: [String] { DigestAlgorithm.allCases.map(\.rawValue) }

    /// The digests of `path` (lowercase hex, by algorithm name) from one streaming read.
    public static func compute(path: String, algorithms names: [String]) throws -> [(algorithm: String, hex: String)] {
        let algorithms = try names.map { name in
            guard let algorithm = DigestAlgorithm(rawValue: name.lowercased()) else {
                throw PipelineError(.usage, NameSuggester.unknown("checksum algorithm", name, valid: algorithmNames))
            }
            return algorithm
        }
        guard let digests = DigestSet(algorithms) else { throw PipelineError(.internalError, "OpenSSL lacks one of \(names)") }
        let hex: [DigestAlgorithm: String]
        do {
            hex = try digests.digests(of: path, reading: StreamingCopy(stop: StopSignal(), throttle: nil) { _ in })
        } catch {
            throw PipelineError(.missingInput, error.message)
        }
        return algorithms.map { ($0.rawValue, hex[$0] ?? "") }
    }
}
