import Foundation
import PipelineCore
import Transfer

/// Turns upload tokens into media items with `mediaItems:batchCreate`: up to 50 items per call,
/// one call at a time (Google asks for serial calls per user).
///
/// Items waiting for their batch give their place in the stage to the next upload
/// (`StageContext.waitingForOthers`), so a batch fills from every item that finishes uploading
/// meanwhile: it goes out when it is full (50), when no other item of the run may still come
/// (`othersMayFollow`: none before this stage, or in it and not waiting yet), or `batch_wait` after
/// its first item arrived. A stop sends the waiting batch at once rather than leaving uploaded items behind. A batch never holds two items of the same file name, so the album ledger
/// (`AlbumLedger`) can tell them apart after a lost answer. Each item gets its own result.
///
/// With several runners on one state the album's batches are still one at a time: each goes
/// inside the album's section (`AlbumLedger.withSection`), and right before it goes every item's
/// lease is renewed (`beforeIrreversibleStep`), so a runner woken from a freeze sends nothing
/// for items another runner took over.
actor MediaItemCreator {
    struct Request: Sendable {
        var uploadToken: String
        var fileName: String
        var description: String?
    }

    enum Result: Sendable, Equatable {
        case created(id: String, productURL: String?)
        /// Google could not create it this time (status 13) and said so: the token is still good.
        case notCreated(String)
        /// The token is used, invalid or expired, and it never went out in a batch whose answer
        /// was lost: the bytes must be uploaded again.
        case tokenRejected(String)
        /// The token is used, and it went out in a batch whose answer was lost: Google created
        /// the item, but the album does not show it (yet). Never uploaded again.
        case usedByLostBatch(String)
        /// The album refused the batch (deleted, or made by another OAuth client).
        case albumRefused(String)
        /// A per-item refusal (`code` 3 is INVALID_ARGUMENT: a type or size Google will not take).
        case refused(code: Int, message: String)
        /// "Success" but no media item: never counted as done.
        case missingMediaItem(status: String)
        /// Not sent: the item is no longer this runner's (another took it over in a shared state),
        /// or its lease could not be renewed in time; the failure says which.
        case withheld(StageFailure)
    }

    /// What became of an item's earlier batchCreate, for an item whose checkpoint says it was sent.
    enum Verdict: Sendable, Equatable {
        case created(id: String, productURL: String?)
        /// Never sent, or Google answered that it created nothing.
        case notCreated
        /// Sent in a batch whose answer was lost, and not in the album: perhaps created.
        case inDoubt
    }

    static let batchLimit = 50
    /// How long a batch already on its way may go on after the run was told to stop (GitHub sends
    /// SIGTERM 7.5 s after SIGINT).
    static let stopGrace = Duration.seconds(5)

    private let settings: GooglePhotosSettings
    private let tokens: OAuthTokenSource
    /// Held while the ledger is read or a batch is sent: the album's positions must not move
    /// between reading and sending (the album's section does the same between runners).
    private let ledgerLock = NSLock()

    /// An item waiting for its batch.
    private struct Waiter {
        var request: Request
        var albumID: String?
        var context: StageContext
        var reply: CheckedContinuation<Result, any Error>
    }

    private var waiting: [Waiter] = []
    private var isSending = false
    /// Told when an item joins `waiting`: a filling batch looks again then.
    private let arrivals = ChangeNotice()

    init(settings: GooglePhotosSettings, tokens: OAuthTokenSource) {
        self.settings = settings
        self.tokens = tokens
    }

    /// Creates one media item (in `albumID` if given); waits for its batch.
    func create(_ request: Request, albumID: String?, context: StageContext) async throws -> Result {
        context.waitingForOthers()
        return try await withCheckedThrowingContinuation { reply in
            waiting.append(Waiter(request: request, albumID: albumID, context: context, reply: reply))
            arrivals.changed()
            if !isSending {
                isSending = true
                Task { await sendBatches() }
            }
        }
    }

    /// For an item whose batchCreate was sent by an earlier attempt or run: settles the batch it
    /// went out in (from the album ledger) if that is still open, and says what became of it.
    func verdict(token: String, albumID: String?, context: StageContext) async throws -> Verdict {
        let (settings, tokens, lock) = (settings, tokens, ledgerLock)
        return try await Blocking.run {
            if let item = try AlbumLedger(albumID: albumID, context: context).created(token) {
                return .created(id: item.id, productURL: item.productURL)
            }
            return try AlbumLedger.withSection(albumID: albumID, context: context, lock: lock) { ledger in
                if let item = try ledger.created(token) { return .created(id: item.id, productURL: item.productURL) }
                if try ledger.batchInFlight()?.entries.contains(where: { $0.token == token }) == true {
                    let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop,
                                                         budget: RequestBudget(settings: settings, context: context), log: context.log)
                    try ledger.reconcile(using: client)
                    if let item = try ledger.created(token) { return .created(id: item.id, productURL: item.productURL) }
                }
                return try ledger.isInDoubt(token) ? .inDoubt : .notCreated
            }
        }
    }

    private func sendBatches() async {
        while !waiting.isEmpty {
            await fill(until: ContinuousClock.now + settings.batchWait.duration)
            let batch = takeBatch()
            let (settings, tokens, lock) = (settings, tokens, ledgerLock)
            let album = batch[0].albumID
            let context = batch[0].context
            // A batch whose items are uploaded still goes when the run is stopping (one request,
            // and their items are done rather than left): it is cut only `stopGrace` after the stop.
            let batchStop = StopSignal()
            let grace = Task {
                await context.stop.stopped()
                try await Task.sleep(for: Self.stopGrace)
                batchStop.stop(.runStopping)
            }
            defer { grace.cancel() }
            let contexts = Dictionary(batch.map { ($0.request.uploadToken, $0.context) }, uniquingKeysWith: { first, _ in first })
            do {
                let results = try await Blocking.run {
                    try AlbumLedger.withSection(albumID: album, context: context, lock: lock) { ledger in
                        let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: batchStop,
                                                             budget: RequestBudget(settings: settings, context: context), log: context.log)
                        var sender = BatchSender(client: client, ledger: ledger)
                        sender.clearance = { requests in try Blocking.wait { try await Self.clearance(of: requests, contexts: contexts) } }
                        return try sender.send(batch.map(\.request))
                    }
                }
                for (entry, result) in zip(batch, results) { entry.reply.resume(returning: result) }
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        isSending = false
    }

    /// Lets the waiting batch fill until it is full, `deadline` passes, or no other item may come
    /// (`othersMayFollow`, false on a stop too); looks again whenever one of them may have changed.
    private func fill(until deadline: ContinuousClock.Instant) async {
        while true {
            // Taken before looking, so a change between the look and the wait is not missed.
            let joined = arrivals.next, context = waiting[0].context
            let mayFollowChanged = context.nextChangeOfOthersMayFollow
            guard waiting.count < Self.batchLimit, ContinuousClock.now < deadline, context.othersMayFollow else { return }
            let changes: [@Sendable () async -> Void] = [
                { await joined.opened() },
                { await mayFollowChanged.opened() },
                { await context.stop.stopped() },
                { _ = try? await Task.sleep(until: deadline, clock: .continuous) },
            ]
            await Race.first(changes)
        }
    }

    /// Renews the lease of each item about to be sent; returns why those that lost it may not go.
    private static func clearance(of requests: [Request], contexts: [String: StageContext]) async -> [String: StageFailure] {
        var withheld: [String: StageFailure] = [:]
        for request in requests {
            do {
                try await contexts[request.uploadToken]?.beforeIrreversibleStep()
            } catch {
                withheld[request.uploadToken] = error
            }
        }
        return withheld
    }

    /// The next batch: the first waiter's album, up to 50 items, no file name twice.
    private func takeBatch() -> [Waiter] {
        let album = waiting[0].albumID
        var batch: [Waiter] = []
        var names = Set<String>()
        waiting.removeAll { entry in
            guard batch.count < Self.batchLimit, entry.albumID == album, names.insert(entry.request.fileName).inserted else { return false }
            batch.append(entry)
            return true
        }
        return batch
    }
}
