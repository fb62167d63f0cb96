import Synchronization
import PipelineCore
import Transfer

/// `curl-list`: lists a remote FTP/FTPS/SFTP tree recursively, as a source.
///
/// Each item's path is its full remote path (`/photos/2024/a.jpg`); sizes are exact, and
/// modification times exact to the second where the server has MLSD (else asked with MDTM).
/// A name that is not UTF-8 (a Latin-1 server) is carried byte-exact as `FileNameBytes` text. An
/// entry that cannot be listed (gone by the time SIZE asks, a folder that cannot be entered) is
/// left out with a warning naming it; a listing line that cannot be read fails the listing. A
/// folder the source's `exclude` leaves out is not entered.
struct CurlListStage: SourceStage {
    static let descriptor = StageDescriptor(
        name: "curl-list",
        summary: "lists a remote FTP/FTPS/SFTP tree recursively (source)",
        parameters: RemoteConnection.parameters + [
            .init("listing", "auto (MLSD where offered, else LIST), mlsd or list"),
        ],
        factory: .source { setup in
            let modeText = setup.parameters["listing"]?.stringValue ?? "auto"
            guard let mode = RemoteTreeWalker.ListingMode(rawValue: modeText) else {
                throw setup.location.error(NameSuggester.unknown("listing mode", modeText, valid: RemoteTreeWalker.ListingMode.allCases.map(\.rawValue)))
            }
            return CurlListStage(endpoint: try RemoteConnection.endpoint(setup, inheriting: false), mode: mode)
        }
    )

    let endpoint: RemoteEndpoint
    let mode: RemoteTreeWalker.ListingMode

    func list(_ context: ListContext) async throws -> [SourceItem] {
        let all = Mutex<[SourceItem]>([])
        try await list(context) { batch in all.withLock { $0 += batch } }
        return all.withLock { $0 }
    }

    func list(_ context: ListContext, batches batch: @escaping @Sendable ([SourceItem]) throws -> Void) async throws {
        try await Blocking.run { [endpoint, mode] in
            // A batch that cannot be taken (the state refused it) stops the walk with its error.
            let refused = Mutex<(any Error)?>(nil)
            do {
                let walker = try RemoteTreeWalker(endpoint: endpoint, mode: mode, entersFolder: context.selection.entersFolder) {
                    context.stop.isStopped || refused.withLock { $0 != nil }
                }
                let listing = try walker.walk(batchSize: SourceBatch.size) { files in
                    guard refused.withLock({ $0 == nil }) else { return }
                    do {
                        try batch(files.map { SourceItem(path: $0.path, size: $0.size, modified: $0.modified) })
                    } catch {
                        refused.withLock { $0 = error }
                    }
                }
                if let error = refused.withLock({ $0 }) { throw error }
                for skipped in listing.skipped {
                    context.log("warning: '\(FileNameBytes.shown(skipped.path))' is not listed: \(skipped.reason)")
                }
                if !listing.skipped.isEmpty {
                    context.log("warning: \(listing.skipped.count) entr\(listing.skipped.count == 1 ? "y" : "ies") of \(endpoint.displayName) left out of this listing (named above)")
                }
            } catch let error as CurlFailure {
                if let error = refused.withLock({ $0 }) { throw error }
                throw RemoteConnection.failure(error, endpoint: endpoint, path: nil, stop: context.stop)
            }
        }
    }
}
