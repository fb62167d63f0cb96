import PipelineCore
import Transfer

/// Finds the id of the album an item goes into: from memory, from the state (`remember`), or by
/// creating it — once, whatever the number of items asking at the same time.
actor AlbumDirectory {
    private let settings: GooglePhotosSettings
    private let tokens: OAuthTokenSource
    private var known: [String: String] = [:]
    private var creating: [String: Task<String, any Error>] = [:]

    init(settings: GooglePhotosSettings, tokens: OAuthTokenSource) {
        self.settings = settings
        self.tokens = tokens
    }

    func id(of title: String, context: StageContext) async throws -> String {
        if let id = known[title] { return id }
        let key = "album:\(title)"
        if let id = try context.recall(key) {
            known[title] = id
            return id
        }
        // Everyone asking while the album is being created waits for that one creation.
        if let pending = creating[title] { return try await pending.value }
        let (settings, tokens) = (settings, tokens)
        let creation = Task { try await Self.create(title, settings: settings, tokens: tokens, context: context) }
        creating[title] = creation
        defer { creating[title] = nil }
        let id = try await creation.value
        try context.remember(key, id)
        context.log("created the album '\(title)'")
        known[title] = id
        return id
    }

    private static func create(_ title: String, settings: GooglePhotosSettings, tokens: OAuthTokenSource, context: StageContext) async throws -> String {
        try await Blocking.run {
            let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop, log: context.log)
            let body = JSONValue.object(["album": ["title": .string(title)]]).jsonText()
            let response = try client.send(HTTPRequest(.post, client.url("/v1/albums"), headers: [("Content-Type", "application/json")],
                                                       body: .bytes(Array(body.utf8))), what: "creating the album '\(title)'")
            guard let id = (try? JSONValue.parse(response.text))?["id"]?.stringValue, !id.isEmpty else {
                throw StageFailure.retryable("creating the album '\(title)': the answer had no album id")
            }
            return id
        }
    }
}
