import PipelineCore

/// The `google-photos` stage's `with:` parameters, validated once when the pipeline is loaded.
struct GooglePhotosSettings: Sendable {
    static let parameters: [StageDescriptor.Parameter] = [
        .init("client_id", required: true, "OAuth client id (a Desktop app client of your Google Cloud project)"),
        .init("client_secret", required: true, "OAuth client secret; use ${VAR}, it is masked everywhere"),
        .init("refresh_token", required: true, "refresh token for the photoslibrary.appendonly scope; use ${VAR}"),
        .init("album", "title of the album every item goes into (default: the pipeline's name; created once by this app, remembered in the state; it is also the ledger that finds items whose creation answer was lost). \"\" for none"),
        .init("album_capacity", "items per album before going on in \"Album (2)\", … (default 20000, Google's limit)"),
        .init("description", "description of each media item; {name} and {path} are replaced by the item's"),
        .init("api_base", "Library API root (default https://photoslibrary.googleapis.com; the emulator's for rehearsals)"),
        .init("token_url", "OAuth token endpoint (default https://oauth2.googleapis.com/token)"),
        .init("raw_upload_limit", "files up to this size go in one request (raw protocol: half the requests, no resume); default 16MiB, 0 = never"),
        .init("chunk_size", "bytes per upload request, rounded down to the server's granularity (default 64MiB: every request counts against the daily quota)"),
        .init("rate_limit_wait", "least wait after a 429 rate limit (default 30s, as Google asks)"),
        .init("server_error_wait", "least wait after a 5xx or a dropped connection (default 1s); doubles per try"),
        .init("max_wait", "longest single wait between tries (default 5m)"),
        .init("tries", "tries of one request before the attempt fails (default 8)"),
        .init("batch_wait", "how long a finished upload waits at most for others to share a batchCreate (default 20s; it goes sooner when 50 are waiting or no other item can come)"),
        .init("stall_timeout", "give up a request moving under 1 KB/s for this long (default 60s)"),
        .init("ca_file", "PEM certificate to trust for api_base/token_url (an emulator behind TLS)"),
        .init("daily_requests", "the project's Library API requests a day (default 10000, Google's quota): counted in the state before each request, shared by every runner of it; the run stops (exit 75) at the limit until midnight Pacific time; also the plan's estimate"),
    ]

    var clientID: String
    var clientSecret: String
    var refreshToken: String
    var album: String?
    var albumCapacity = 20_000
    var descriptionTemplate: String?
    var apiBase = "https://photoslibrary.googleapis.com"
    var tokenURL = "https://oauth2.googleapis.com/token"
    var chunkSize: Int64 = 64 << 20
    var rawUploadLimit: Int64 = 16 << 20
    var rateLimitWait = TimeSpan(milliseconds: 30_000)
    var serverErrorWait = TimeSpan(milliseconds: 1000)
    var maxWait = TimeSpan(milliseconds: 300_000)
    var tries = 8
    var batchWait = TimeSpan(milliseconds: 20_000)
    var stallTimeout = 60
    var caFile: String?
    /// Library API requests a day (Google's quota per project), counted in the state.
    var dailyRequests = 10_000
    /// `run --fresh`: an existing, non-empty album the state does not know of is used anyway.
    var fresh = false

    init(_ setup: StageSetup) throws {
        clientID = try setup.string("client_id")
        clientSecret = try setup.string("client_secret")
        refreshToken = try setup.string("refresh_token")
        // An album by default: it is the only exact way to find an item whose creation answer was lost.
        album = setup.parameters["album"].map { $0.stringValue.flatMap { $0.isEmpty ? nil : $0 } } ?? setup.pipelineName
        fresh = setup.fresh
        descriptionTemplate = setup.parameters["description"]?.stringValue
        albumCapacity = try setup.wholeNumber("album_capacity", in: 1...20_000) ?? albumCapacity
        if let value = setup.parameters["api_base"]?.stringValue { apiBase = value.hasSuffix("/") ? String(value.dropLast()) : value }
        if let value = setup.parameters["token_url"]?.stringValue { tokenURL = value }
        for (key, url) in [("api_base", apiBase), ("token_url", tokenURL)] {
            if let problem = TrustedEndpoint.problem(with: url) {
                throw setup.location.error("stage '\(setup.stageName)': '\(key)' \(problem): the access token is sent there")
            }
        }
        if let size = try setup.byteSize("raw_upload_limit") { rawUploadLimit = size.bytes }
        if let size = try setup.byteSize("chunk_size") {
            guard size.bytes >= 262_144 else { throw setup.location.error("stage '\(setup.stageName)': 'chunk_size' must be at least 256KiB") }
            chunkSize = size.bytes
        }
        rateLimitWait = try setup.timeSpan("rate_limit_wait") ?? rateLimitWait
        serverErrorWait = try setup.timeSpan("server_error_wait") ?? serverErrorWait
        maxWait = try setup.timeSpan("max_wait") ?? maxWait
        batchWait = try setup.timeSpan("batch_wait") ?? batchWait
        if let stall = try setup.timeSpan("stall_timeout") { stallTimeout = max(1, Int(stall.seconds)) }
        tries = try setup.wholeNumber("tries", in: 1...Int64.max) ?? tries
        dailyRequests = try setup.wholeNumber("daily_requests", in: 1...100_000_000) ?? dailyRequests
        if setup.parameters["ca_file"] != nil { caFile = try setup.path("ca_file") }
    }

    /// Google's quota counts every request: a file up to `raw_upload_limit` is one raw upload, a
    /// larger one a session start plus one request per chunk; a batchCreate serves up to 50 items.
    @Sendable static func quota(_ parameters: [String: JSONValue]) -> QuotaModel {
        func size(_ key: String, _ fallback: Int64) -> Int64 {
            parameters[key]?.stringValue.flatMap(ByteSize.init(parsing:))?.bytes ?? fallback
        }
        let raw = size("raw_upload_limit", 16 << 20), chunk = max(262_144, size("chunk_size", 64 << 20))
        let daily = parameters["daily_requests"]?.int64Value.map { Int(clamping: $0) } ?? 10_000
        var model = QuotaModel(service: "Google Photos Library API", dailyRequests: min(max(daily, 1), 100_000_000),
                               itemsPerSharedRequest: MediaItemCreator.batchLimit) { bytes in
            bytes <= raw ? 1 : 1 + Int((bytes + chunk - 1) / chunk)
        }
        if let clientID = parameters["client_id"]?.stringValue {
            model.counter = (RequestBudget.counterName(clientID: clientID), { QuotaDay(containing: $0).label })
        }
        return model
    }

    /// The description for one item, or nil for none.
    func description(name: String, path: String) -> String? {
        descriptionTemplate.map {
            String($0.replacingOccurrences(of: "{name}", with: name).replacingOccurrences(of: "{path}", with: path).prefix(1000))
        }
    }
}
