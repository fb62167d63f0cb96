import Foundation
import PipelineCore
import Transfer

/// `google-photos`: uploads the item into the user's Google Photos library (Library API).
///
/// Every step that cannot be repeated safely is recorded first: the upload session URL before the
/// first byte, the upload token as soon as it arrives, and the fact that batchCreate was sent. A
/// restart resumes the session at the byte Google has, creates the item from a recorded token
/// (valid for a day) without uploading again, and — if the token turns out to be used already —
/// looks for the item the cut-off call created instead of making a second one.
struct GooglePhotosStage: Stage {
    static let descriptor = StageDescriptor(
        name: "google-photos",
        summary: "uploads to Google Photos (resumable, duplicate-free, batched batchCreate, optional album)",
        parameters: GooglePhotosSettings.parameters,
        factory: .item { setup in GooglePhotosStage(settings: try GooglePhotosSettings(setup)) }
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

        await creator.itemEntered()
        do {
            let result = try await deliver(context, file: file, fileName: fileName, size: size)
            await creator.itemLeft()
            return result
        } catch {
            await creator.itemLeft()
            throw error
        }
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

        // 1. The bytes, unless a recorded token still stands for them.
        let now = Date().timeIntervalSince1970
        var token = checkpoint["upload_token"]?.stringValue
        if let received = checkpoint["token_received"]?.int64Value.map(Double.init), now - received > Self.tokenLifetime {
            context.log("the recorded upload token is over a day old; uploading again")
            token = nil
        }
        if token == nil {
            let session = checkpoint["session_url"]?.stringValue.map {
                ResumableUpload.Session(url: $0, granularity: checkpoint["granularity"]?.int64Value ?? 262_144)
            }
            let (settings, tokens, album) = (settings, tokens, albumID.map(JSONValue.string) ?? .null)
            let uploaded = try await Blocking.run {
                let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop, log: context.log)
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
            checkpoint = ["upload_token": .string(uploaded), "token_received": .number(now.rounded()),
                          "album_id": albumID.map(JSONValue.string) ?? .null]
            try context.saveCheckpoint(checkpoint)
            token = uploaded
        }
        guard let token else { throw StageFailure.retryable("no upload token") }

        // 2. The media item. Recorded as sent first: after a crash the token may be used up.
        let sentBefore = checkpoint["create_sent"] != nil
        checkpoint["create_sent"] = .number(Date().timeIntervalSince1970.rounded())
        try context.saveCheckpoint(checkpoint)
        let request = MediaItemCreator.Request(uploadToken: token, fileName: fileName,
                                               description: settings.description(name: fileName, path: context.item.path))
        switch try await creator.create(request, albumID: albumID, stop: context.stop) {
        case .created(let id, let productURL):
            return try done(context, id: id, productURL: productURL, fileName: fileName, albumID: albumID)
        case .refused(let code, let message) where code == 3 && message.lowercased().contains("token"):
            if sentBefore, let found = try await findCreated(context, fileName: fileName) {
                context.log("the media item was created before the last run was cut off; recording it")
                return try done(context, id: found.id, productURL: found.productURL, fileName: fileName, albumID: albumID)
            }
            try context.saveCheckpoint(["album_id": albumID.map(JSONValue.string) ?? .null])
            throw StageFailure.retryable("Google Photos no longer accepts the upload token for '\(fileName)' (\(message)); uploading again")
        case .refused(_, let message):
            throw StageFailure.permanent("Google Photos refused '\(fileName)': \(message)")
        case .missingMediaItem(let status):
            throw StageFailure.permanent("Google Photos answered \"\(status)\" for '\(fileName)' but returned no media item; not counted as uploaded")
        }
    }

    private func done(_ context: StageContext, id: String, productURL: String?, fileName: String, albumID: String?) throws -> StageResult {
        // Claimed, so a lookup for a same-named file never takes this item for its own.
        try context.remember("item:\(id)", context.item.path)
        var outputs: [String: JSONValue] = ["media_item_id": .string(id), "file_name": .string(fileName)]
        if let productURL { outputs["product_url"] = .string(productURL) }
        if let albumID { outputs["album_id"] = .string(albumID) }
        return .done(outputs)
    }

    private func findCreated(_ context: StageContext, fileName: String) async throws -> (id: String, productURL: String?)? {
        let (settings, tokens) = (settings, tokens)
        return try await Blocking.run {
            let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop, log: context.log)
            return try CreatedItemLookup(client: client).find(fileName: fileName) { id in
                try context.recall("item:\(id)").map { $0 != context.item.path } ?? false
            }
        }
    }

    /// The name Google Photos shows: the item's, at most 255 characters (the end, with the extension).
    static func fileName(of item: SourceItem) -> String {
        item.name.count <= 255 ? item.name : String(item.name.suffix(255))
    }
}
