import Foundation
import PipelineCore
import Transfer

/// Talks to the Library API for one stage attempt (or one batch): adds the bearer token, refreshes
/// it on a 401, and rides out what Google says to ride out — 429 (at least `rate_limit_wait`),
/// 5xx and 409 (at least `server_error_wait`), dropped connections — with doubling waits that
/// honour `Retry-After`. The daily quota is not ridden out: it stops the run. Every request it
/// sends is first counted against `daily_requests` in the state (`RequestBudget`).
///
/// Blocking: call it from a `Blocking.run` thread, never from the async world directly.
final class PhotosLibraryClient {
    let settings: GooglePhotosSettings
    private let tokens: OAuthTokenSource
    private let http: HTTPClient
    private let stop: StopSignal
    /// Counts each request before it goes; nil where no state counts them (`state rebuild`).
    private let budget: RequestBudget?
    let log: (String) -> Void

    init(settings: GooglePhotosSettings, tokens: OAuthTokenSource, stop: StopSignal, budget: RequestBudget?,
         log: @escaping (String) -> Void) throws(StageFailure) {
        self.settings = settings
        self.tokens = tokens
        self.stop = stop
        self.budget = budget
        self.log = log
        var options = HTTPClient.Options()
        options.stallTimeout = settings.stallTimeout
        options.caFile = settings.caFile
        do {
            http = try HTTPClient(options: options)
        } catch {
            throw .permanent("cannot start an HTTP client: \(error.message)")
        }
    }

    func url(_ path: String) -> String { settings.apiBase + path }

    /// A request that must succeed and may safely go twice (it creates nothing): retried through
    /// transient trouble; a 2xx response, a response whose status is in `passing` (the caller
    /// reads it), or a `StageFailure` saying what went wrong (`what` names the call for messages,
    /// `scope` the OAuth scope it needs).
    func send(_ request: HTTPRequest, what: String, scope: PhotosScope = .appendOnly, passing: Set<Int> = [],
              sent: ((Int64) -> Void)? = nil) throws(StageFailure) -> HTTPResponse {
        var attempt = 1
        while true {
            let outcome = try exchange(request, sent: sent)
            switch outcome {
            case .response(let response) where response.isSuccess:
                return response
            case .response(let response):
                guard let wait = transientWait(response, attempt: attempt) else {
                    if let stop = runLevelFailure(response, what: what, scope: scope) { throw stop }
                    if passing.contains(response.status) { return response }
                    throw failure(response, what: what, scope: scope)
                }
                guard attempt < settings.tries else { throw retryable(response, what: what, attempts: attempt) }
                log("\(what): HTTP \(response.status), trying again in \(wait)")
                try pause(wait)
            case .dropped(let failure):
                guard attempt < settings.tries else { throw .retryable("\(what): \(failure.message) (\(attempt) tries)") }
                let wait = backoff(from: settings.serverErrorWait, attempt: attempt)
                log("\(what): \(failure.message), trying again in \(wait)")
                try pause(wait)
            }
            attempt += 1
        }
    }

    /// Every entry under `key` of a paged listing (`nextPageToken`), asked page by page with
    /// `request` (given the page token, nil for the first). A server that hands back the same
    /// page token again is refused rather than walked forever.
    func allPages(_ key: String, what: String, scope: PhotosScope,
                  request: (String?) -> HTTPRequest) throws(StageFailure) -> [JSONValue] {
        var entries: [JSONValue] = []
        var pageToken: String?
        repeat {
            let response = try send(request(pageToken), what: what, scope: scope)
            let page = try? JSONValue.parse(response.text)
            if case .array(let found)? = page?[key] { entries += found }
            let next = page?["nextPageToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if next != nil, next == pageToken { throw .retryable("\(what): the listing repeated its page token") }
            pageToken = next
        } while pageToken != nil
        return entries
    }

    enum Outcome {
        case response(HTTPResponse)
        /// No complete response: the request may or may not have reached the server.
        case dropped(CurlFailure)
    }

    /// What became of a request that creates something.
    enum CreateOutcome {
        /// Google's answer: a success, or a refusal it gave before acting.
        case answered(HTTPResponse)
        /// No answer, a 5xx or a 409: the create may have happened. Find out before sending again.
        case inDoubt(String)
    }

    /// Sends a creating request (batchCreate, albums.create) once, on a connection of its own so
    /// that libcurl never re-sends it by itself. Waits and sends again only where Google says it
    /// did not act (a rate limit, a refreshed token); every other outcome goes to the caller,
    /// which reconciles an `inDoubt` one before anything is sent again.
    func sendCreating(_ request: HTTPRequest, what: String) throws(StageFailure) -> CreateOutcome {
        var request = request
        request.freshConnection = true
        var attempt = 1
        while true {
            switch try exchange(request) {
            case .response(let response) where response.isSuccess:
                return .answered(response)
            case .response(let response) where response.status == 409 || response.status >= 500:
                return .inDoubt("HTTP \(response.status): \(Self.message(response))")
            case .response(let response):
                guard let wait = transientWait(response, attempt: attempt), attempt < settings.tries else {
                    if let stop = runLevelFailure(response, what: what, scope: .appendOnly) { throw stop }
                    return .answered(response)
                }
                log("\(what): HTTP \(response.status), trying again in \(wait)")
                try pause(wait)
            case .dropped(let failure):
                return .inDoubt(failure.message)
            }
            attempt += 1
        }
    }

    /// One exchange with the bearer token (refreshed and resent once on a 401). A stop aborts it.
    /// Each request sent is counted first; a spent daily limit stops the run before it goes.
    func exchange(_ request: HTTPRequest, sent: ((Int64) -> Void)? = nil) throws(StageFailure) -> Outcome {
        var token = try tokens.accessToken(using: http)
        var refreshed = false
        while true {
            try budget?.spendOne()
            var authorized = request
            authorized.headers.append(("Authorization", "Bearer \(token)"))
            let response: HTTPResponse
            do {
                response = try http.send(authorized, shouldContinue: { [stop] in !stop.isStopped }, sent: sent)
            } catch {
                try stop.check()
                return .dropped(error)
            }
            guard response.status == 401, !refreshed else { return .response(response) }
            token = try tokens.accessToken(using: http, rejected: token)
            refreshed = true
        }
    }

    /// How long to wait before sending again, or nil when sending again will not help.
    func transientWait(_ response: HTTPResponse, attempt: Int) -> TimeSpan? {
        let floor: TimeSpan
        switch response.status {
        case 429 where !Self.isDailyQuota(response): floor = settings.rateLimitWait
        case 400 where Self.isUploadRateLimit(response): floor = settings.rateLimitWait
        case 409, 500...599: floor = settings.serverErrorWait
        default: return nil
        }
        // From the server: clamped, never trusted to be a sane number.
        let asked = response.header("retry-after").flatMap(Double.init).map { min(TimeSpan(seconds: $0), settings.maxWait) }
        return max(backoff(from: floor, attempt: attempt), asked ?? floor)
    }

    /// `floor` doubled per earlier try, at most `max_wait`.
    func backoff(from floor: TimeSpan, attempt: Int) -> TimeSpan {
        let doubled = floor.milliseconds.multipliedReportingOverflow(by: 1 << min(max(0, attempt - 1), 20))
        let ceiling = max(settings.maxWait.milliseconds, floor.milliseconds)
        return TimeSpan(milliseconds: doubled.overflow ? ceiling : min(doubled.partialValue, ceiling))
    }

    /// Waits `wait` (a backoff, a Retry-After), woken at once (and throwing) when the stage must stop.
    func pause(_ wait: TimeSpan) throws(StageFailure) {
        _ = stop.wait(for: wait.duration)
        try stop.check()
    }

    /// A non-transient error response as the failure the orchestrator acts on.
    func failure(_ response: HTTPResponse, what: String, scope: PhotosScope = .appendOnly) -> StageFailure {
        var failure = runLevelFailure(response, what: what, scope: scope)
            ?? .permanent("\(what) was refused: HTTP \(response.status): \(Self.message(response))")
        failure.category = PhotosFailureCategory.of(httpStatus: response.status, message: Self.message(response))
        return failure
    }

    /// An error that is about the whole run, not this item: every other item would get it too,
    /// so the run stops (without counting failures) and says what a person must do.
    func runLevelFailure(_ response: HTTPResponse, what: String, scope: PhotosScope) -> StageFailure? {
        let message = Self.message(response)
        if Self.isDailyQuota(response) {
            return .stopsRun(.quotaExhausted, "Google Photos' daily request quota is used up (\(what) got 429: \(message)); "
                             + "no more uploads in this run, the rest is left for the next run (the quota resets at midnight Pacific time)")
        }
        if response.status == 403, message.lowercased().contains("scope") {
            return .stopsRun(.notAuthorized, "Google Photos refused \(what): \(message) The refresh token lacks the \(scope.url) scope. "
                             + "Re-authorise with both \(PhotosScope.appendOnly.url) and \(PhotosScope.readAppCreated.url) "
                             + "(README, \"Google Photos credentials\")")
        }
        if response.status == 401 {
            return .stopsRun(.notAuthorized, "Google Photos refused \(what) even with a fresh access token (HTTP 401: \(message)): "
                             + "the authorisation lacks the \(PhotosScope.appendOnly.url) scope or was withdrawn. "
                             + "Re-authorise (README, \"Google Photos credentials\")")
        }
        if response.status == 400, message.lowercased().contains("remaining storage") {
            return .stopsRun(.destinationFull, "The Google account's storage is full (\(what): \(message)). Nothing more is sent in "
                             + "this run and no item is counted as failed; free space or add storage, then run again")
        }
        return nil
    }

    private func retryable(_ response: HTTPResponse, what: String, attempts: Int) -> StageFailure {
        StageFailure(.retryable, "\(what): HTTP \(response.status): \(Self.message(response)) (\(attempts) tries)",
                     retryAfter: transientWait(response, attempt: attempts),
                     category: PhotosFailureCategory.of(httpStatus: response.status, message: Self.message(response)))
    }

    static func isDailyQuota(_ response: HTTPResponse) -> Bool {
        response.status == 429 && response.text.contains("per day")
    }

    /// Google answers some upload rate limits with a 400, not a 429: a wait, not a refusal.
    static func isUploadRateLimit(_ response: HTTPResponse) -> Bool {
        response.status == 400 && response.text.contains("Insufficient tokens for quota")
    }

    /// The message of Google's error envelope (`{"error":{"message"}}`), the flat upload form
    /// (`{"code","message"}`), or the start of the text.
    static func message(_ response: HTTPResponse) -> String {
        let body = try? JSONValue.parse(response.text)
        if let message = body?["error"]?["message"]?.stringValue ?? body?["message"]?.stringValue { return message }
        return String(response.text.prefix(200)).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The OAuth scopes the stage needs, for messages that say which one is missing.
enum PhotosScope: String {
    /// Uploads, media items and albums this app creates.
    case appendOnly = "photoslibrary.appendonly"
    /// Reading back what this app created: the ledger that finds an item whose answer was lost.
    case readAppCreated = "photoslibrary.readonly.appcreateddata"

    var url: String { "https://www.googleapis.com/auth/" + rawValue }
}
