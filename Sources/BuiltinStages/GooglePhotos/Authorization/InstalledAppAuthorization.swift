import Foundation
import PipelineCore
import Transfer

/// Google's OAuth flow for installed apps, as decisions: the address the user opens, what the
/// browser's return to the loopback address means, the token request, and what its answer means.
/// `pipeline auth google` drives it with a loopback listener and one HTTP request.
///
/// PKCE (S256) binds the code to this process, so a code seen by anyone else is worthless; `state`
/// binds the return to this request, so an old or forged address is not taken.
public struct InstalledAppAuthorization: Sendable {
    /// What the google-photos stage needs: adding items to its albums, and reading back what it
    /// made (the album ledger after a lost answer, `pipeline state rebuild`).
    public static let scopes = [
        "https://www.googleapis.com/auth/photoslibrary.appendonly",
        "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata",
    ]
    public static let googleAuthorizationEndpoint = "https://accounts.google.com/o/oauth2/v2/auth"
    public static let googleTokenEndpoint = "https://oauth2.googleapis.com/token"

    public let clientID: String
    let clientSecret: String
    public let authorizationEndpoint: String
    public let tokenEndpoint: String
    public let redirectURI: String
    let verifier: String
    let state: String

    /// What came back to the redirect address.
    public enum Return: Equatable, Sendable {
        /// The user allowed access: exchange this code.
        case code(String)
        /// The user (or Google) said no: `error` as Google named it.
        case refused(error: String)
        /// Not the answer to this request (another path, an older request's address, a typo).
        case unrelated(why: String)
    }

    /// What the token endpoint's answer gives.
    public struct Grant: Sendable {
        public var refreshToken: String
        public var scopes: [String]
    }

    /// `verifier` and `state` are random unless given (tests). Endpoints must be https, or http to
    /// a loopback address (the emulator); the client id and secret must be present.
    public init(clientID: String, clientSecret: String, redirectURI: String,
                authorizationEndpoint: String = googleAuthorizationEndpoint, tokenEndpoint: String = googleTokenEndpoint,
                verifier: String = InstalledAppAuthorization.random(length: 64), state: String = InstalledAppAuthorization.random(length: 32)) throws(PipelineError) {
        for (name, value) in [("client id", clientID), ("client secret", clientSecret)] where value.isEmpty || value.count > 1024 || value.contains(where: \.isWhitespace) {
            throw PipelineError(.usage, "the \(name) is \(value.isEmpty ? "missing" : "not a valid one")",
                                hint: "give --client-id and --client-secret, or set GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (README, \"Google Photos credentials\")")
        }
        for (name, url) in [("authorization endpoint", authorizationEndpoint), ("token endpoint", tokenEndpoint)] {
            if let problem = TrustedEndpoint.problem(with: url) { throw PipelineError(.usage, "the \(name) \(url) \(problem)") }
        }
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.verifier = verifier
        self.state = state
    }

    /// The address to open in a browser: Google's consent page for the two scopes, asking for a
    /// refresh token (`access_type=offline`) even if this client was allowed before (`prompt=consent`).
    public var addressToOpen: String {
        let query: [(String, String)] = [
            ("client_id", clientID), ("redirect_uri", redirectURI), ("response_type", "code"),
            ("scope", Self.scopes.joined(separator: " ")), ("code_challenge", Self.challenge(for: verifier)),
            ("code_challenge_method", "S256"), ("state", state), ("access_type", "offline"), ("prompt", "consent"),
        ]
        return authorizationEndpoint + (authorizationEndpoint.contains("?") ? "&" : "?")
            + query.map { "\($0.0)=\(PercentEncoding.unreserved($0.1.utf8))" }.joined(separator: "&")
    }

    /// What a return means: the request target the browser asked the loopback listener for
    /// (`/?state=…&code=…`), or the whole address pasted from a browser on another machine.
    public func interpret(_ target: String) -> Return {
        let trimmed = target.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let question = trimmed.firstIndex(of: "?") else {
            return .unrelated(why: "it has no ?code=… part; paste the whole address the browser shows after you allowed access")
        }
        var fields: [String: String] = [:]
        for pair in trimmed[trimmed.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.formDecoded(parts[0]), fields[name] == nil else { continue }
            fields[name] = parts.count == 2 ? Self.formDecoded(parts[1]) : ""
        }
        guard fields["state"] == state else {
            return .unrelated(why: "it is not the answer to the address printed above (its state differs); open that address, not an older one")
        }
        if let error = fields["error"] { return .refused(error: String(error.prefix(100))) }
        guard let code = fields["code"], !code.isEmpty, code.count <= 4096, !code.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            return .unrelated(why: "it carries no usable code")
        }
        return .code(code)
    }

    /// The exchange of a code for tokens, with the PKCE verifier.
    public func tokenRequest(code: String) -> HTTPRequest {
        .form(tokenEndpoint, [
            ("code", code), ("client_id", clientID), ("client_secret", clientSecret), ("redirect_uri", redirectURI),
            ("grant_type", "authorization_code"), ("code_verifier", verifier),
        ])
    }

    /// Sends the exchange (once: a code is single-use) and reads the answer.
    public func exchange(code: String) throws(PipelineError) -> Grant {
        let response: HTTPResponse
        do {
            response = try HTTPClient().send(tokenRequest(code: code))
        } catch {
            throw PipelineError(.serviceUnavailable, "cannot reach the token endpoint \(tokenEndpoint): \(error.message)",
                                hint: "check the network, then run `pipeline auth google` again")
        }
        return try grant(from: response)
    }

    /// The refresh token in the token endpoint's answer, or why there is none to use.
    public func grant(from response: HTTPResponse) throws(PipelineError) -> Grant {
        let body = try? JSONValue.parse(response.text)
        guard response.isSuccess else {
            let error = body?["error"]?.stringValue ?? "HTTP \(response.status)"
            switch error {
            case "invalid_client", "unauthorized_client":
                throw PipelineError(.notAuthorized, "Google refused the OAuth client (\(error))",
                                    hint: "check the client id and secret; the client must be of type \"Desktop app\"")
            case "invalid_grant":
                throw PipelineError(.notAuthorized, "Google refused the code (invalid_grant: expired, used already, or from another request)",
                                    hint: "run `pipeline auth google` again and finish within 10 minutes")
            default:
                throw PipelineError(.serviceUnavailable, "the token endpoint refused the exchange (\(error), HTTP \(response.status))",
                                    hint: "run `pipeline auth google` again; if it persists, check --token-url")
            }
        }
        guard let refreshToken = body?["refresh_token"]?.stringValue, !refreshToken.isEmpty, refreshToken.count <= 4096,
              !refreshToken.contains(where: { $0.isWhitespace || $0.isNewline })
        else {
            throw PipelineError(.notAuthorized, "Google answered without a refresh token",
                                hint: "run `pipeline auth google` again; it asks with prompt=consent, which makes Google send one")
        }
        let granted = (body?["scope"]?.stringValue ?? "").split(separator: " ").map(String.init)
        let missing = Self.scopes.filter { !granted.contains($0) }
        guard missing.isEmpty else {
            throw PipelineError(.notAuthorized, "access was granted without \(missing.map { "'\($0.split(separator: "/").last ?? "")'" }.joined(separator: " and "))",
                                hint: "run `pipeline auth google` again and leave both boxes ticked on Google's consent page: the upload stage needs both")
        }
        return Grant(refreshToken: refreshToken, scopes: granted)
    }

    // MARK: PKCE and randomness

    /// RFC 7636 S256: BASE64URL(SHA-256(verifier)), without padding.
    static func challenge(for verifier: String) -> String {
        let digest = DigestAlgorithm.sha256.makeDigest()!
        Array(verifier.utf8).withUnsafeBytes { digest.update($0) }
        let hex = Array(digest.finalizeHex().utf8)
        let bytes = stride(from: 0, to: hex.count, by: 2).map { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// `length` characters from RFC 7636's unreserved set, from the system's secure generator.
    public static func random(length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// `application/x-www-form-urlencoded` decoding (`+` is a space); nil for bad escapes.
    static func formDecoded(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
