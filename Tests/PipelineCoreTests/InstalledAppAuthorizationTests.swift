import Testing
import Transfer
@testable import BuiltinStages
@testable import PipelineCore

@Suite("Google sign-in for installed apps: the decisions")
struct InstalledAppAuthorizationTests {
    func flow(state: String = "st4te") throws -> InstalledAppAuthorization {
        try InstalledAppAuthorization(clientID: "id.apps.googleusercontent.com", clientSecret: "s3cret", redirectURI: "http://127.0.0.1:4711/",
                                      verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", state: state)
    }

    @Test func theChallengeIsRFC7636sExample() {
        #expect(InstalledAppAuthorization.challenge(for: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        let random = InstalledAppAuthorization.random(length: 64)
        #expect(random.count == 64 && random != InstalledAppAuthorization.random(length: 64))
    }

    @Test func theAddressAsksForBothScopesARefreshTokenAndS256() throws {
        let address = try flow().addressToOpen
        #expect(address.hasPrefix("https://accounts.google.com/o/oauth2/v2/auth?client_id=id.apps.googleusercontent.com&"))
        for part in ["redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2F", "response_type=code", "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                     "code_challenge_method=S256", "state=st4te", "access_type=offline", "prompt=consent",
                     "scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fphotoslibrary.appendonly%20https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fphotoslibrary.readonly.appcreateddata"] {
            #expect(address.contains(part), "\(part)")
        }
        #expect(!address.contains("s3cret"), "the secret never goes into the address")
    }

    @Test func aReturnIsTakenOnlyWithThisRequestsState() throws {
        let flow = try flow()
        #expect(flow.interpret("/?state=st4te&code=4/0Ab%2Bc&scope=x") == .code("4/0Ab+c"))
        #expect(flow.interpret("http://127.0.0.1:4711/?code=abc&state=st4te\n") == .code("abc"), "a pasted address, with its newline")
        #expect(flow.interpret("/?error=access_denied&state=st4te") == .refused(error: "access_denied"))
        #expect(flow.interpret("/?error=access_denied&state=other") != .refused(error: "access_denied"), "a refusal for another request is not ours")
        for unrelated in ["/favicon.ico", "/?code=abc&state=old", "/?code=abc", "/?state=st4te", "/?state=st4te&code=a%0Ab", "4/0Abc"] {
            guard case .unrelated = flow.interpret(unrelated) else { Issue.record("\(unrelated) was taken"); continue }
        }
    }

    @Test func theExchangeCarriesTheVerifierAndTheRedirect() throws {
        let request = try flow().tokenRequest(code: "c0de")
        guard case .bytes(let bytes) = request.body else { Issue.record("no form body"); return }
        let form = String(decoding: bytes, as: UTF8.self)
        #expect(form == "code=c0de&client_id=id.apps.googleusercontent.com&client_secret=s3cret&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2F"
            + "&grant_type=authorization_code&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(request.url == "https://oauth2.googleapis.com/token")
    }

    @Test func theAnswerMustHoldARefreshTokenAndBothScopes() throws {
        let flow = try flow()
        let both = InstalledAppAuthorization.scopes.joined(separator: " ")
        func answer(_ status: Int, _ json: String) -> HTTPResponse { HTTPResponse(status: status, headers: [:], body: Array(json.utf8)) }
        #expect(try flow.grant(from: answer(200, #"{"access_token":"a","refresh_token":"1//r","scope":"\#(both)"}"#)).refreshToken == "1//r")
        let cases: [(HTTPResponse, PipelineError.Code, String)] = [
            (answer(200, #"{"access_token":"a","scope":"\#(both)"}"#), .notAuthorized, "without a refresh token"),
            (answer(200, #"{"refresh_token":"r","scope":"\#(InstalledAppAuthorization.scopes[0])"}"#), .notAuthorized, "readonly.appcreateddata"),
            (answer(400, #"{"error":"invalid_grant"}"#), .notAuthorized, "invalid_grant"),
            (answer(401, #"{"error":"invalid_client"}"#), .notAuthorized, "Desktop app"),
            (answer(503, "down"), .serviceUnavailable, "HTTP 503"),
        ]
        for (response, code, fragment) in cases {
            do {
                _ = try flow.grant(from: response)
                Issue.record("taken: \(response.text)")
            } catch {
                #expect(error.code == code && "\(error)".contains(fragment), "\(error)")
            }
        }
    }

    @Test func endpointsAndCredentialsAreChecked() {
        #expect(throws: PipelineError.self) {
            try InstalledAppAuthorization(clientID: "", clientSecret: "s", redirectURI: "http://127.0.0.1:1/")
        }
        #expect(throws: PipelineError.self) {
            try InstalledAppAuthorization(clientID: "i", clientSecret: "s", redirectURI: "http://127.0.0.1:1/", tokenEndpoint: "http://example.com/token")
        }
    }
}
