import Foundation
import PipelineCore
import Transfer

/// `google-photos`: uploads the item into the user's Google Photos library (Library API).
///
/// Every step that cannot be repeated safely is recorded first: the upload session URL before the
/// first byte, the upload token as soon as it arrives, and the fact that batchCreate was sent
/// (with the batch and the album's length, in the album ledger). A restart resumes the session at
/// the byte Google has, creates the item from a recorded token (valid for a day) without
/// uploading again, and settles a batchCreate whose answer was lost from the album — however old
/// the token — instead of making a second item.
struct GooglePhotosStage: Stage {
    static let descriptor = StageDescriptor(
        name: "google-photos",
        summary: "uploads to Google Photos (resumable, duplicate-free, batched batchCreate, optional album)",
        parameters: GooglePhotosSettings.parameters,
        factory: .item { setup in GooglePhotosStage(settings: try GooglePhotosSettings(setup)) },
        quota: GooglePhotosSettings.quota
    )

    /// An upload token is good for a day; one this old is not trusted any more.
    static let tokenLifetime: Double = 23 * 3600

    let settings: GooglePhotosSettings
    let tokens: OAuthTokenSource
    let creator: MediaItemCreator
    let albums: AlbumDirectory

    init(settings: GooglePhotosSettings) {
        self.settings = settings
        tokens = OAuthTokenSource(settings: settings)
        creator = MediaItemCreator(settings: settings, tokens: tokens)
        albums = AlbumDirectory(settings: settings, tokens: tokens)
    }

    var isIrreversible: Bool { true }

    /// Done is done: the item lives in Google Photos, not in the work directory.
    func outputsAreValid(_ outputs: [String: JSONValue], workdir: String) -> Bool { true }

    func run(_ context: StageContext) async throws -> StageResult {
        let file = try context.requireInputFile()
        let fileName = Self.fileName(of: context.item)
        guard let size = FileStream.size(of: file) else { throw StageFailure(.badInput, "the fetched file '\(file)' is missing") }
        if let reason = MediaTypeRules.refusal(fileName: fileName, size: size) { return .skip(reason: reason) }

        return try await deliver(context, file: file, fileName: fileName, size: size)
    }

    private func deliver(_ context: StageContext, file: String, fileName: String, size: Int64) async throws -> StageResult {
        var checkpoint = context.checkpoint ?? [:]
        // The album is chosen once per item and kept with it, so a retry is not counted twice.
        var albumID = checkpoint["album_id"]?.stringValue
        if albumID == nil, let title = settings.album {
            albumID = try await albums.place(in: title, context: context)
            checkpoint["album_id"] = albumID.map(JSONValue.string)
            try context.saveCheckpoint(checkpoint)
        }
        var token = checkpoint["upload_token"]?.stringValue
        let received = checkpoint["token_received"]?.int64Value.map(Double.init) ?? 0
        var tokenIsStale = Date().timeIntervalSince1970 - received > Self.tokenLifetime

        // 0. A batchCreate went out for this item before: find out what it did before anything else.
        if let sent = token, checkpoint["create_sent"] != nil {
            switch try await creator.verdict(token: sent, albumID: albumID, context: context) {
            case .created(let id, let productURL):
                context.log("the media item was created by a call whose answer was lost; recording it")
                return try done(context, id: id, productURL: productURL, fileName: fileName, albumID: albumID)
            case .notCreated:
                checkpoint["create_sent"] = nil
            case .inDoubt where tokenIsStale && albumID != nil:
                // Looked for in the album and not there, and the token has expired: not created.
                context.log("the earlier batchCreate is not in the album and its upload token has expired; uploading again")
                checkpoint["create_sent"] = nil
            case .inDoubt where tokenIsStale:
                throw StageFailure.permanent(Self.cannotTell(fileName))
            case .inDoubt:
                // Sending the same token again is safe: a token Google used cannot make a second item.
                break
            }
        }

        // 1. The bytes, unless a recorded token still stands for them.
        if tokenIsStale, token != nil, checkpoint["create_sent"] == nil {
            context.log("the recorded upload token is over a day old; uploading again")
            token = nil
        }
        if token == nil {
            let uploaded = try await upload(context, file: file, fileName: fileName, size: size, checkpoint: checkpoint, albumID: albumID)
            checkpoint = ["upload_token": .string(uploaded), "token_received": .number(Date().timeIntervalSince1970.rounded()),
                          "album_id": albumID.map(JSONValue.string) ?? .null]
            try context.saveCheckpoint(checkpoint)
            token = uploaded
            tokenIsStale = false
        }
        guard let token else { throw StageFailure.retryable("no upload token") }

        // 2. The media item. Recorded as sent first: after a crash the ledger settles it.
        checkpoint["create_sent"] = .number(Date().timeIntervalSince1970.rounded())
        try context.saveCheckpoint(checkpoint)
        let request = MediaItemCreator.Request(uploadToken: token, fileName: fileName,
                                               description: settings.description(name: fileName, path: context.item.path))
        let result = try await creator.create(request, albumID: albumID, context: context)
        if case .created(let id, let productURL) = result {
            return try done(context, id: id, productURL: productURL, fileName: fileName, albumID: albumID)
        }
        // Everything below created nothing (or nothing this item may claim): the next try starts
        // from a checkpoint that says so.
        checkpoint["create_sent"] = nil
        switch result {
        case .created:
            preconditionFailure("handled above")
        case .notCreated(let message):
            try context.saveCheckpoint(checkpoint)
            throw StageFailure(.retryable, "Google Photos could not create '\(fileName)' this time (\(message)); trying again with the same upload",
                               isAnswerAboutTheItem: true, category: .serverError)
        case .tokenRejected(let message):
            try context.saveCheckpoint(["album_id": albumID.map(JSONValue.string) ?? .null])
            throw StageFailure(.retryable, "Google Photos no longer accepts the upload token for '\(fileName)' (\(message)); uploading again",
                               isAnswerAboutTheItem: true)
        case .usedByLostBatch(let message):
            // Created by a call whose answer was lost, yet not in the album: never uploaded again.
            checkpoint["create_sent"] = .number(Date().timeIntervalSince1970.rounded())
            try context.saveCheckpoint(checkpoint)
            guard albumID != nil else { throw StageFailure.permanent(Self.cannotTell(fileName)) }
            throw StageFailure(.retryable, "'\(fileName)' was created by a call whose answer was lost (\(message)) but the album does not show it yet; looking again later",
                               isAnswerAboutTheItem: true)
        case .albumRefused(let message):
            guard let refused = albumID else { throw StageFailure.permanent("Google Photos refused '\(fileName)': \(message)") }
            checkpoint["album_id"] = .string(try await albums.replace(refused, context: context))
            try context.saveCheckpoint(checkpoint)
            throw StageFailure(.retryable, "the album refused '\(fileName)' (\(message)); going on in a new album", retryAfter: TimeSpan(milliseconds: 0),
                               isAnswerAboutTheItem: true)
        case .refused(let code, let message):
            throw StageFailure(.permanent, "Google Photos refused '\(fileName)': \(message)", category: PhotosFailureCategory.of(itemCode: code, message: message))
        case .withheld(let failure):
            // Not sent: the item is another runner's now, or goes in a later batch.
            throw failure
        case .missingMediaItem(let status):
            throw StageFailure.permanent("Google Photos answered \"\(status)\" for '\(fileName)' but returned no media item; not counted as uploaded")
        }
    }

    /// Sends the file's bytes (raw for small files, else resumably) and returns the upload token.
    private func upload(_ context: StageContext, file: String, fileName: String, size: Int64,
                        checkpoint: [String: JSONValue], albumID: String?) async throws -> String {
        let session = checkpoint["session_url"]?.stringValue.map {
            ResumableUpload.Session(url: $0, granularity: max(1, checkpoint["granularity"]?.int64Value ?? 262_144))
        }
        let (settings, tokens, album) = (settings, tokens, albumID.map(JSONValue.string) ?? .null)
        return try await Blocking.run {
            let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop,
                                                 budget: RequestBudget(settings: settings, context: context), log: context.log)
            // Small files in one request (quota); larger ones, or one with a session already, resumably.
            if session == nil, size <= settings.rawUploadLimit {
                return try RawUpload(client: client, file: file, size: size, fileName: fileName, context: context).run()
            }
            let upload = ResumableUpload(client: client, file: file, size: size, fileName: fileName, context: context)
            return try upload.run(resuming: session) { session in
                try context.saveCheckpoint(["session_url": .string(session.url), "granularity": .number(Double(session.granularity)),
                                            "album_id": album])
            }
        }
    }

    private func done(_ context: StageContext, id: String, productURL: String?, fileName: String, albumID: String?) throws -> StageResult {
        var outputs: [String: JSONValue] = ["media_item_id": .string(id), "file_name": .string(fileName)]
        if let productURL { outputs["product_url"] = .string(productURL) }
        if let albumID { outputs["album_id"] = .string(albumID) }
        return .done(outputs)
    }

    /// Why an item without an album cannot be settled after a lost answer.
    static func cannotTell(_ fileName: String) -> String {
        """
        Google Photos may have created '\(fileName)' in a call whose answer was lost, and without an album there is no \
        exact way to find it (file names repeat). Not uploading it again, to make no duplicate: look for it in Google \
        Photos; if it is missing, `pipeline forget` it to upload it again. Set `album:` (the default) to let the stage \
        settle such cases by itself
        """
    }

    /// The name Google Photos shows: the item's, at most 255 characters (the end, with the extension).
    static func fileName(of item: SourceItem) -> String {
        item.name.count <= 255 ? item.name : String(item.name.suffix(255))
    }
}
