import PipelineCore
import Transfer

/// Places items in albums by title: finds the album's id (from memory, from the state, or by
/// creating it — once, whatever the number of items asking at the same time), and when the album
/// is full (Google: 20,000 items) goes on in "Title (2)", "Title (3)", ….
///
/// What it has created and how full the current album is are remembered in the state, so a new
/// run — on a fresh CI runner — carries on in the same album.
actor AlbumDirectory {
    private let settings: GooglePhotosSettings
    private let tokens: OAuthTokenSource
    private var known: [String: String] = [:]
    private var creating: [String: Task<String, any Error>] = [:]
    /// Per title: which album of the sequence is being filled (1 = "Title") and with how many items.
    private var fill: [String: (album: Int, items: Int)] = [:]

    init(settings: GooglePhotosSettings, tokens: OAuthTokenSource) {
        self.settings = settings
        self.tokens = tokens
    }

    /// The album the next item titled `title` goes into; counts the item in it.
    func place(in title: String, context: StageContext) async throws -> String {
        // Counted before any await, so items placed at the same time never share the last slot.
        var current = try fill[title] ?? Self.parseFill(try context.recall("album-fill:\(title)"))
        if current.items >= settings.albumCapacity {
            current = (current.album + 1, 0)
            context.log("album '\(Self.title(title, current.album - 1))' is full (\(settings.albumCapacity) items); going on in '\(Self.title(title, current.album))'")
        }
        current.items += 1
        fill[title] = current
        try context.remember("album-fill:\(title)", "\(current.album) \(current.items)")
        return try await id(of: Self.title(title, current.album), context: context)
    }

    /// "Title", then "Title (2)", "Title (3)", ….
    static func title(_ base: String, _ number: Int) -> String { number <= 1 ? base : "\(base) (\(number))" }

    private static func parseFill(_ text: String?) -> (album: Int, items: Int) {
        let numbers = (text ?? "").split(separator: " ").compactMap { Int($0) }
        return numbers.count == 2 ? (max(1, numbers[0]), max(0, numbers[1])) : (1, 0)
    }

    private func id(of title: String, context: StageContext) async throws -> String {
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
