import Foundation
import PipelineCore
import Transfer

/// Turns upload tokens into media items with `mediaItems:batchCreate`: up to 50 items per call,
/// one call at a time (Google asks for serial calls per user).
///
/// Items that finish uploading at about the same time share a call: a batch goes out when it is
/// full, when every item still in this stage is waiting in it, or `batch_wait` after its first
/// item arrived. Each item gets its own result; a failure of the whole call fails each waiter.
actor MediaItemCreator {
    struct Request: Sendable {
        var uploadToken: String
        var fileName: String
        var description: String?
    }

    enum Result: Sendable {
        case created(id: String, productURL: String?)
        /// A per-item status other than success; `code` 3 is INVALID_ARGUMENT.
        case refused(code: Int, message: String)
        /// "Success" but no media item: never counted as done.
        case missingMediaItem(status: String)
    }

    static let batchLimit = 50

    private let settings: GooglePhotosSettings
    private let tokens: OAuthTokenSource
    /// An item waiting for its batch.
    private struct Waiter {
        var request: Request
        var albumID: String?
        var stop: StopSignal
        var reply: CheckedContinuation<Result, any Error>
    }

    private var waiting: [Waiter] = []
    /// Items between the start of this stage and their result: the ones a batch may wait for.
    private var itemsInStage = 0
    private var isSending = false

    init(settings: GooglePhotosSettings, tokens: OAuthTokenSource) {
        self.settings = settings
        self.tokens = tokens
    }

    func itemEntered() { itemsInStage += 1 }
    func itemLeft() { itemsInStage -= 1 }

    /// Creates one media item (in `albumID` if given); waits for its batch.
    func create(_ request: Request, albumID: String?, stop: StopSignal) async throws -> Result {
        try await withCheckedThrowingContinuation { reply in
            waiting.append(Waiter(request: request, albumID: albumID, stop: stop, reply: reply))
            if !isSending {
                isSending = true
                Task { await sendBatches() }
            }
        }
    }

    private func sendBatches() async {
        while !waiting.isEmpty {
            let deadline = ContinuousClock.now + settings.batchWait.duration
            while waiting.count < min(Self.batchLimit, itemsInStage), ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            // One album per call: take the first waiter's album, and everyone else's with the same.
            let album = waiting[0].albumID
            var batch: [Waiter] = []
            waiting.removeAll { entry in
                guard batch.count < Self.batchLimit, entry.albumID == album else { return false }
                batch.append(entry)
                return true
            }
            let requests = batch.map(\.request)
            let stop = batch[0].stop
            let (settings, tokens) = (settings, tokens)
            do {
                let results = try await Blocking.run {
                    try Self.send(requests, albumID: album, settings: settings, tokens: tokens, stop: stop)
                }
                for (entry, result) in zip(batch, results) { entry.reply.resume(returning: result) }
            } catch {
                for entry in batch { entry.reply.resume(throwing: error) }
            }
        }
        isSending = false
    }

    /// One batchCreate call; the results in the order of `requests`.
    private static func send(_ requests: [Request], albumID: String?, settings: GooglePhotosSettings,
                             tokens: OAuthTokenSource, stop: StopSignal) throws -> [Result] {
        let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: stop, log: { _ in })
        var body: [String: JSONValue] = [
            "newMediaItems": .array(requests.map { request in
                var item: [String: JSONValue] = ["simpleMediaItem": ["uploadToken": .string(request.uploadToken), "fileName": .string(request.fileName)]]
                if let description = request.description { item["description"] = .string(description) }
                return .object(item)
            }),
        ]
        if let albumID { body["albumId"] = .string(albumID) }
        let request = HTTPRequest(.post, client.url("/v1/mediaItems:batchCreate"), headers: [("Content-Type", "application/json")],
                                  body: .bytes(Array(JSONValue.object(body).jsonText().utf8)))
        let response = try client.send(request, what: "creating \(requests.count) media item\(requests.count == 1 ? "" : "s")")
        guard let results = (try? JSONValue.parse(response.text))?["newMediaItemResults"], case .array(let entries) = results else {
            throw StageFailure.retryable("batchCreate answered without newMediaItemResults")
        }
        var byToken: [String: JSONValue] = [:]
        for entry in entries {
            if let token = entry["uploadToken"]?.stringValue { byToken[token] = entry }
        }
        return requests.enumerated().map { index, request in
            let entry = byToken[request.uploadToken] ?? (index < entries.count && entries[index]["uploadToken"] == nil ? entries[index] : nil)
            guard let entry else { return .missingMediaItem(status: "no result for this item") }
            let status = entry["status"]
            let code = status?["code"]?.int64Value ?? 0
            let message = status?["message"]?.stringValue ?? ""
            guard code == 0 else { return .refused(code: Int(code), message: message) }
            guard let id = entry["mediaItem"]?["id"]?.stringValue, !id.isEmpty else { return .missingMediaItem(status: message) }
            return .created(id: id, productURL: entry["mediaItem"]?["productUrl"]?.stringValue)
        }
    }
}
