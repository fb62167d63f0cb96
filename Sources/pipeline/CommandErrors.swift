import ArgumentParser
import Foundation
import PipelineCore

/// Runs a command's body; a `PipelineError` becomes a message on stderr and its documented exit status.
func reportingErrors(_ body: () async throws -> ExitStatus) async throws {
    let status: ExitStatus
    do {
        status = try await body()
    } catch let error as PipelineError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode(error.exitStatus.rawValue)
    }
    if status != .success { throw ExitCode(status.rawValue) }
}

extension TimeSpan: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

extension LogFormat: ExpressibleByArgument {}

extension ByteSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
