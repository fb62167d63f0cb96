import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

/// `pipeline auth google`: Google's sign-in flow for installed apps (a loopback redirect with
/// PKCE), ending with the refresh token the google-photos stage reads — handed over once, to
/// standard output or a file only the user can read, never to a log.
struct AuthGoogleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "google",
        abstract: "Sign in to Google and get a refresh token for the google-photos stage.",
        discussion: """
            Needs an OAuth client of type "Desktop app" (README, "Google Photos credentials"). Prints an address \
            to open in a browser; after you allow access, Google sends the browser back to this command on \
            127.0.0.1. On a machine without a browser, open the address anywhere, then paste the address the \
            browser ends on (it starts with http://127.0.0.1:PORT/ and will not load there) into this command.

            The refresh token goes to standard output (messages go to standard error), so \
            `pipeline auth google | gh secret set GOOGLE_REFRESH_TOKEN` stores it straight into a GitHub secret; \
            or with --output to a new file readable only by you.
            """
    )

    @Option(help: "The OAuth client id (default: $GOOGLE_CLIENT_ID).")
    var clientID: String?

    @Option(help: "The OAuth client secret (default: $GOOGLE_CLIENT_SECRET; the variable keeps it out of `ps`).")
    var clientSecret: String?

    @Option(name: [.customShort("o"), .long], help: "Write the refresh token to this new file (mode 0600) instead of standard output.")
    var output: String?

    @Option(help: "The local port Google sends the browser back to (0: any free one).")
    var port = 0

    @Option(help: "How long to wait for the browser (at most 1h; Google's codes last 10 minutes).")
    var timeout = TimeSpan(milliseconds: 600_000)

    @Option(name: .customLong("auth-url"), help: "The authorization endpoint (default: $GOOGLE_AUTH_URL or Google's; the emulator's for a dry run).")
    var authorizationEndpoint: String?

    @Option(name: .customLong("token-url"), help: "The token endpoint (default: $GOOGLE_TOKEN_URL or Google's).")
    var tokenEndpoint: String?

    func run() async throws {
        try await reportingErrors {
            let environment = ProcessInfo.processInfo.environment
            guard timeout.milliseconds >= 1000, timeout.milliseconds <= 3_600_000 else {
                throw PipelineError(.usage, "--timeout must be between 1s and 1h, not \(timeout)")
            }
            if let output { try Self.checkFree(output) }
            let receiver = try LoopbackRedirectReceiver(port: port)
            let flow = try InstalledAppAuthorization(
                clientID: clientID ?? environment["GOOGLE_CLIENT_ID"] ?? "",
                clientSecret: clientSecret ?? environment["GOOGLE_CLIENT_SECRET"] ?? "",
                redirectURI: receiver.redirectURI,
                authorizationEndpoint: authorizationEndpoint ?? environment["GOOGLE_AUTH_URL"] ?? InstalledAppAuthorization.googleAuthorizationEndpoint,
                tokenEndpoint: tokenEndpoint ?? environment["GOOGLE_TOKEN_URL"] ?? InstalledAppAuthorization.googleTokenEndpoint)
            Self.say("""
                Open this address in a browser and allow access:

                  \(flow.addressToOpen)

                Waiting for the browser to come back to \(receiver.redirectURI) …
                If the browser is on another machine, its last page will not load: copy the address it shows
                (it starts with \(receiver.redirectURI)?) and paste it here, then press Enter.
                """)
            let code = try Self.awaitCode(flow, receiver: receiver, until: .now + timeout.duration)
            Self.say("Exchanging the code for a refresh token…")
            let grant = try flow.exchange(code: code)
            if let output {
                try Self.writeNew(output, grant.refreshToken + "\n")
                Self.say("""
                    Done. The refresh token is in \(output) (readable only by you). Keep it secret: it gives access to your library.
                    To store it as a GitHub secret:  gh secret set GOOGLE_REFRESH_TOKEN < \(output)
                    """)
            } else {
                print(grant.refreshToken)
                Self.say("Done. The refresh token is the one line printed on standard output; keep it secret. Nothing else recorded it.")
            }
            return .success
        }
    }

    /// Takes arrivals until one carries this request's code; the browser is told how it went.
    static func awaitCode(_ flow: InstalledAppAuthorization, receiver: LoopbackRedirectReceiver,
                          until deadline: ContinuousClock.Instant) throws(PipelineError) -> String {
        while let arrival = receiver.next(until: deadline) {
            switch arrival {
            case .browser(let target, let connection):
                switch flow.interpret(target) {
                case .code(let code):
                    receiver.respond(connection, page: "Access allowed. You can close this tab; the terminal has the rest.")
                    return code
                case .refused(let error):
                    receiver.respond(connection, page: "Access was not allowed (\(error)). The terminal says what to do next.")
                    throw refusal(error)
                case .unrelated:
                    receiver.respond(connection, status: "404 Not Found", page: "Nothing here: this address only takes Google's answer.")
                }
            case .pasted(let line):
                switch flow.interpret(line) {
                case .code(let code): return code
                case .refused(let error): throw refusal(error)
                case .unrelated(let why): say("That address was not taken: \(why). Paste the address again, or press Ctrl-C.")
                }
            }
        }
        throw PipelineError(.timedOut, "no answer came from the browser in time", hint: "run `pipeline auth google` again and open the new address")
    }

    static func refusal(_ error: String) -> PipelineError {
        PipelineError(.notAuthorized, "Google did not grant access (\(error))",
                      hint: error == "access_denied" ? "run it again and choose Allow (Continue) on Google's page" : "run `pipeline auth google` again")
    }

    static func say(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

    /// Refuses a path that exists (never overwrites a file) before the flow starts.
    static func checkFree(_ path: String) throws(PipelineError) {
        var info = stat()
        if lstat(path, &info) == 0 { throw PipelineError(.usage, "'\(path)' exists; give a new file name (it is never overwritten)") }
    }

    /// Creates `path` with mode 0600 (never following a link, never over an existing file).
    static func writeNew(_ path: String, _ text: String) throws(PipelineError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw PipelineError(.io, "cannot create '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw PipelineError(.io, "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
