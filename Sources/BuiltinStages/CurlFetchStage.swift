import Foundation
import PipelineCore
import Transfer

/// `curl-fetch`: downloads the item from an FTP/FTPS/SFTP server into the work directory.
///
/// The download grows under its partial name and resumes from its size (REST). The remote file's
/// size and time (SIZE and MDTM) are asked before each download and recorded when one starts: a
/// partial file of a remote that has changed since is discarded, never spliced; a remote that
/// changed while it was downloaded (asked again after) is downloaded again. The complete file is
/// checked against the listed size and renamed into place atomically.
struct CurlFetchStage: Stage {
    static let descriptor = StageDescriptor(
        name: "curl-fetch",
        summary: "downloads from FTP/FTPS/SFTP with byte-exact resume (connection settings default to the source's)",
        parameters: RemoteConnection.parameters + [
            .init("stall_timeout", "fail the attempt after this long below 1 KB/s (default 60s)"),
            .init("rate_limit", "bytes per second at most, such as 20MB"),
        ],
        factory: .item { setup in
            var options = ResumableDownload.Options()
            if let span = try setup.timeSpan("stall_timeout", atLeast: TimeSpan(milliseconds: 1000)) {
                options.stallTimeout = Int(span.seconds)
            }
            options.rateLimit = try setup.byteSize("rate_limit")?.bytes
            return CurlFetchStage(endpoint: try RemoteConnection.endpoint(setup, inheriting: true), options: options)
        }
    )

    let endpoint: RemoteEndpoint
    let options: ResumableDownload.Options

    func run(_ context: StageContext) async throws -> StageResult {
        let target = context.target
        let size = context.item.size
        // Best effort: opening the partial file makes the folder again if a sibling's cleanup removed it.
        try? FileManager.default.createDirectory(atPath: target.directory, withIntermediateDirectories: true)
        if FileStream.size(of: target.absolute) == size {
            return .done(outputs(target, size: size, resumedAt: size, copied: 0))
        }
        let probe = try await remote(path: context.item.path) { () throws(CurlFailure) in try RemoteFileProbe(endpoint: endpoint, path: context.item.path) }
        // The remote as it is now; a partial file begun from another version must not be spliced on.
        let identity = try await remote(path: context.item.path) { () throws(CurlFailure) in Self.identity(try probe.current()) }
        let partialSize = FileStream.size(of: target.partial) ?? 0
        if partialSize > 0, let recorded = context.checkpoint?["remote"], recorded != identity {
            context.log("the remote file changed since its download began; starting over")
            try? FileManager.default.removeItem(atPath: target.partial)
        }
        if (FileStream.size(of: target.partial) ?? 0) == 0 {
            try context.saveCheckpoint(["remote": identity])
        } else {
            context.log("resuming at byte \(FileStream.size(of: target.partial) ?? 0) of \(size)")
        }

        let download = ResumableDownload(endpoint: endpoint, remotePath: context.item.path, partialPath: target.partial,
                                         expectedSize: size, options: options)
        let outcome = try await Blocking.run { [endpoint] in
            // libcurl asks very often; ten reports a second are plenty, a stop is checked every time.
            var lastReport: UInt64 = 0
            do {
                return try download.run(on: probe, pause: { _ = context.stop.wait(for: $0) }) { position in
                    let now = DispatchTime.now().uptimeNanoseconds
                    if now - lastReport > 100_000_000 || position == size {
                        lastReport = now
                        context.progress(bytes: position, total: size)
                    }
                    return !context.stop.isStopped
                }
            } catch let error as CurlFailure {
                throw RemoteConnection.failure(error, endpoint: endpoint, path: context.item.path, stop: context.stop)
            }
        }
        let after = try await remote(path: context.item.path) { () throws(CurlFailure) in Self.identity(try probe.current()) }
        guard after == identity else {
            try? FileManager.default.removeItem(atPath: target.partial)
            throw StageFailure(.retryable, "'\(context.item.path)' changed on \(endpoint.displayName) while it was copied (size and time were \(Self.describe(identity)), are \(Self.describe(after))); its copy was discarded and it will be copied again",
                               isAnswerAboutTheItem: true, category: .remoteMissing)
        }
        let finalSize = FileStream.size(of: target.partial) ?? 0
        guard finalSize == size else {
            if finalSize > size { try? FileManager.default.removeItem(atPath: target.partial) }
            throw StageFailure.retryable("download of '\(context.item.path)' ended at \(finalSize) of \(size) bytes")
        }
        guard rename(target.partial, target.absolute) == 0 else { throw FileStream.failure("rename", target.partial) }
        return .done(outputs(target, size: size, resumedAt: outcome.resumedAt, copied: outcome.received))
    }

    /// Runs a request to the server, its failure told the way every remote failure is.
    private func remote<Value: Sendable>(path: String, _ body: @escaping @Sendable () throws(CurlFailure) -> Value) async throws -> Value {
        try await Blocking.run { [endpoint] in
            do {
                return try body()
            } catch let error as CurlFailure {
                throw RemoteConnection.failure(error, endpoint: endpoint, path: path, stop: StopSignal())
            }
        }
    }

    /// A remote file's identity as checkpoints record it (the listing's form).
    static func identity(_ file: RemoteFile) -> JSONValue {
        ["size": .number(Double(file.size)), "modified": file.modified.map(JSONValue.string) ?? .null]
    }

    static func describe(_ identity: JSONValue) -> String {
        "\(identity["size"]?.int64Value.map(String.init) ?? "?") bytes, \(identity["modified"]?.stringValue ?? "no time")"
    }

    private func outputs(_ target: WorkPath, size: Int64, resumedAt: Int64, copied: Int64) -> [String: JSONValue] {
        [StageOutputs.file: .string(target.relative), StageOutputs.size: .number(Double(size)),
         "resumed_at": .number(Double(resumedAt)), "copied": .number(Double(copied))]
    }
}
