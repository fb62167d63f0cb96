import Foundation
import PipelineCore
import Synchronization
import Transfer

/// Hands out a Google access token, refreshing it with the refresh token when it is about to
/// expire or the API said 401. One per stage: every item of the run shares the cached token, and
/// only one refresh happens at a time.
///
/// Tokens live in memory only; they are never written to the state or a log line.
final class OAuthTokenSource: Sendable {
    private struct Token {
        var value: String
        var expiresAt: ContinuousClock.Instant
    }

    private let settings: GooglePhotosSettings
    /// Held during a refresh, so concurrent items wait for one refresh rather than each doing one.
    private let current = Mutex<Token?>(nil)

    init(settings: GooglePhotosSettings) { self.settings = settings }

    /// A token valid for at least another minute. `rejected` is a token the API just answered 401
    /// to: it is replaced even if it looks unexpired (unless another item already replaced it).
    func accessToken(using client: HTTPClient, rejected: String? = nil) throws(StageFailure) -> String {
        try current.withLock { (token: inout Token?) throws(StageFailure) -> String in
            if let token, token.value != rejected, token.expiresAt > .now + .seconds(60) { return token.value }
            let fresh = try refresh(using: client)
            token = fresh
            return fresh.value
        }
    }

    private func refresh(using client: HTTPClient) throws(StageFailure) -> Token {
        let request = HTTPRequest.form(settings.tokenURL, [
            ("client_id", settings.clientID), ("client_secret", settings.clientSecret),
            ("refresh_token", settings.refreshToken), ("grant_type", "refresh_token"),
        ])
        let response: HTTPResponse
        do {
            response = try client.send(request)
        } catch {
            throw .retryable("cannot reach the OAuth token endpoint \(settings.tokenURL): \(error.message)")
        }
        let body = try? JSONValue.parse(response.text)
        if response.isSuccess, let value = body?["access_token"]?.stringValue, !value.isEmpty {
            let lifetime = body?["expires_in"]?.int64Value ?? 3600
            return Token(value: value, expiresAt: .now + .seconds(lifetime))
        }
        let code = body?["error"]?.stringValue ?? "HTTP \(response.status)"
        switch (response.status, code) {
        case (_, "invalid_grant"):
            throw .stopsRun(.notAuthorized, """
                Google refused the refresh token (invalid_grant: \(body?["error_description"]?.stringValue ?? "expired or revoked")). \
                Re-authorise: make a new refresh token (README, "Google Photos credentials") and put it in the variable \
                the pipeline reads. Apps left in "Testing" lose their refresh tokens after 7 days.
                """)
        case (_, "invalid_client"), (_, "unauthorized_client"):
            throw .stopsRun(.notAuthorized, "Google refused the OAuth client (\(code)): check client_id and client_secret")
        case (429, _), (500..., _):
            throw .retryable("the OAuth token endpoint answered \(response.status); will try again")
        default:
            throw .permanent("the OAuth token endpoint refused the refresh (\(code), HTTP \(response.status))")
        }
    }
}
