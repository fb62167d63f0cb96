import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

struct ChecksumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checksum",
        abstract: "Print files' digests with the checksum stage's code (one streaming pass for all algorithms), as sha256sum does."
    )

    @Option(name: .shortAndLong, parsing: .singleValue, help: "sha256 (default), sha1, md5, crc32, sha224, sha384, sha512; repeat or comma-separate for several.")
    var algorithms: [String] = []

    @Argument(help: "Files to read.")
    var files: [String]

    func run() async throws {
        try await reportingErrors {
            let names = algorithms.flatMap { $0.split(separator: ",").map(String.init) }
            for file in files {
                for (algorithm, hex) in try FileDigests.compute(path: file, algorithms: names.isEmpty ? ["sha256"] : names) {
                    print(names.count > 1 ? "\(algorithm) \(hex)  \(file)" : "\(hex)  \(file)")
                }
            }
            return .success
        }
    }
}
