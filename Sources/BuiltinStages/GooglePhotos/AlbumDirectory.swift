import PipelineCore
import Transfer

/// Places items in albums by title: finds the album's id (from memory, from the state, among the
/// albums this app already made, or by creating it — once, whatever the number of items asking at
/// the same time), and when the album is full (Google: 20,000 items) goes on in "Title (2)", ….
///
/// What it has created and how full the current album is are remembered in the state, so a new
/// run — on a fresh CI runner — carries on in the same album. An album of this title that the
/// state does not know and that already holds items means the state is not the latest one: the
/// run stops rather than upload those files again (`run --fresh` accepts the duplicates).
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

    /// After Google refused to add items to `refused` (the user deleted it, or it belongs to
    /// another OAuth client): a new album of the same title, created once, recorded, and used from
    /// now on. Returns its id.
    func replace(_ refused: String, context: StageContext) async throws -> String {
        guard let title = known.first(where: { $0.value == refused })?.key ?? (try? recordedTitle(of: refused, context: context)) else {
            throw StageFailure.retryable("Google Photos refused the album \(refused), which this state does not know")
        }
        if let id = known[title], id != refused { return id }
        if let pending = creating[title] { return try await pending.value }
        let (settings, tokens) = (settings, tokens)
        let creation = Task {
            try await Blocking.run {
                try context.exclusively("album-title:\(title)") {
                    // Another runner of a shared state may have replaced it already.
                    if let id = try context.recall("album:\(title)"), id != refused { return id }
                    let id = try Self.createAlbum(title, settings: settings, tokens: tokens, context: context)
                    try context.remember(["album:\(title)": id, "ledger:\(id)": "0"])
                    context.log("Google Photos no longer lets this app add to the album '\(title)' (deleted, or made by another OAuth client); created a new album '\(title)' and going on there")
                    return id
                }
            }
        }
        creating[title] = creation
        defer { creating[title] = nil }
        let id = try await creation.value
        known[title] = id
        return id
    }

    /// "Title", then "Title (2)", "Title (3)", ….
    static func title(_ base: String, _ number: Int) -> String { number <= 1 ? base : "\(base) (\(number))" }

    private static func parseFill(_ text: String?) -> (album: Int, items: Int) {
        let numbers = (text ?? "").split(separator: " ").compactMap { Int($0) }
        return numbers.count == 2 ? (max(1, numbers[0]), max(0, numbers[1])) : (1, 0)
    }

    private func recordedTitle(of id: String, context: StageContext) throws -> String? {
        guard let base = settings.album else { return nil }
        let number = Self.parseFill(try context.recall("album-fill:\(base)")).album
        return (1...max(1, number)).map { Self.title(base, $0) }.first { (try? context.recall("album:\($0)")) == id }
    }

    private func id(of title: String, context: StageContext) async throws -> String {
        if let id = known[title] { return id }
        if let id = try context.recall("album:\(title)") {
            known[title] = id
            return id
        }
        // Everyone asking while the album is being found or created waits for that one.
        if let pending = creating[title] { return try await pending.value }
        let (settings, tokens) = (settings, tokens)
        let creation = Task {
            try await Blocking.run {
                // One runner of a shared state at a time finds or creates it; the next finds it recorded.
                try context.exclusively("album-title:\(title)") {
                    if let id = try context.recall("album:\(title)") { return id }
                    return try Self.findOrCreate(title, settings: settings, tokens: tokens, context: context)
                }
            }
        }
        creating[title] = creation
        defer { creating[title] = nil }
        let id = try await creation.value
        known[title] = id
        return id
    }

    /// The state knows no album of this title: look among the albums this app made before
    /// creating one (an album whose creation answer was lost, or a state that is not the latest).
    private static func findOrCreate(_ title: String, settings: GooglePhotosSettings, tokens: OAuthTokenSource,
                                     context: StageContext) throws -> String {
        let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop,
                                             budget: RequestBudget(settings: settings, context: context), log: context.log)
        let albums = try appAlbums(client: client)
        if let existing = albums.first(where: { $0.title == title && $0.isWriteable }) {
            if existing.items > 0, !settings.fresh {
                throw StageFailure.stopsRun(.destinationHasUploads, """
                    Google Photos already has the album '\(title)' made by this app, with \(existing.items) items, but this state \
                    has no record of uploading anything into it: the state is not the latest one (a lost or expired CI artifact, \
                    another machine's state, a deleted state file). Going on would upload those files again. Restore the latest \
                    state and run again; or rebuild the state from the album with `pipeline state rebuild PIPELINE_FILE`; or run \
                    with --fresh to accept duplicates (they go on in the same album)
                    """)
            }
            try context.remember(["album:\(title)": existing.id, "ledger:\(existing.id)": String(existing.items)])
            context.log("using the album '\(title)' this app made earlier (\(existing.items) items)")
            return existing.id
        }
        let id = try createAlbum(title, besides: Set(albums.filter { $0.title == title }.map(\.id)), settings: settings, tokens: tokens, context: context)
        try context.remember(["album:\(title)": id, "ledger:\(id)": "0"])
        context.log("created the album '\(title)'")
        return id
    }

    /// Creates the album; after a lost answer, looks for it before creating it again, so one
    /// title never becomes two albums. `besides`: the ids of the app's albums of this title that
    /// exist already (listed when nil).
    private static func createAlbum(_ title: String, besides: Set<String>? = nil, settings: GooglePhotosSettings,
                                    tokens: OAuthTokenSource, context: StageContext) throws -> String {
        let client = try PhotosLibraryClient(settings: settings, tokens: tokens, stop: context.stop,
                                             budget: RequestBudget(settings: settings, context: context), log: context.log)
        let body = JSONValue.object(["album": ["title": .string(title)]]).jsonText()
        let request = HTTPRequest(.post, client.url("/v1/albums"), headers: [("Content-Type", "application/json")], body: .bytes(Array(body.utf8)))
        let before = try besides ?? Set(appAlbums(client: client).filter { $0.title == title }.map(\.id))
        var lost = 0
        while true {
            switch try client.sendCreating(request, what: "creating the album '\(title)'") {
            case .answered(let response) where response.isSuccess:
                guard let id = (try? JSONValue.parse(response.text))?["id"]?.stringValue, !id.isEmpty else {
                    throw StageFailure.retryable("creating the album '\(title)': the answer had no album id")
                }
                return id
            case .answered(let response):
                throw client.failure(response, what: "creating the album '\(title)'")
            case .inDoubt(let reason):
                lost += 1
                if let made = try appAlbums(client: client).first(where: { $0.title == title && !before.contains($0.id) }) {
                    context.log("creating the album '\(title)': \(reason); it was created, using it")
                    return made.id
                }
                guard lost < settings.tries else { throw StageFailure.retryable("creating the album '\(title)': \(reason) (\(lost) tries)") }
                let wait = client.backoff(from: settings.serverErrorWait, attempt: lost)
                context.log("creating the album '\(title)': \(reason); it was not created, trying again in \(wait)")
                try client.pause(wait)
            }
        }
    }

    struct AppAlbum {
        var id: String
        var title: String
        var items: Int
        var isWriteable: Bool
    }

    /// The number of `title` in the sequence "Title", "Title (2)", …; nil for another title.
    static func number(of title: String, in base: String) -> Int? {
        if title == base { return 1 }
        guard title.hasPrefix(base + " ("), title.hasSuffix(")"),
              let number = Int(title.dropFirst(base.count + 2).dropLast()), number >= 2 else { return nil }
        return number
    }

    /// The albums this app made (`GET /v1/albums`: with the app-created-data scope Google lists only those).
    static func appAlbums(client: PhotosLibraryClient) throws(StageFailure) -> [AppAlbum] {
        try client.allPages("albums", what: "listing the albums this app made", scope: .readAppCreated) { pageToken in
            HTTPRequest(.get, client.url("/v1/albums?pageSize=50") + (pageToken.map { "&pageToken=" + HTTPRequest.formEncoded($0) } ?? ""))
        }.compactMap { entry in
            guard let id = entry["id"]?.stringValue, let title = entry["title"]?.stringValue else { return nil }
            return AppAlbum(id: id, title: title, items: AlbumLedger.itemCount(entry), isWriteable: entry["isWriteable"]?.boolValue ?? true)
        }
    }
}
