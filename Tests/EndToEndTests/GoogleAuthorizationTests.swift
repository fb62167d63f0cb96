import Foundation
import Testing

extension EndToEnd {
/// `pipeline auth google` against the emulator's authorization server: the printed address, a
/// browser following it, the refresh token obtained and then used by a real run; the token is in
/// nothing but the place asked for.
@Suite("pipeline auth google")
struct GoogleAuthorizationTests {
    let photos = GooglePhotosTests()

    /// `pipeline auth google` pointed at `emulator`, with `extra` arguments.
    func startAuth(_ sandbox: Sandbox, _ emulator: PhotosEmulator, _ extra: [String] = [], input: Pipe? = nil) throws -> PipelineProcess {
        try PipelineProcess(["auth", "google", "--client-id", PhotosEmulator.clientID,
                             "--auth-url", emulator.base + "/o/oauth2/v2/auth", "--token-url", emulator.base + "/token"] + extra,
                            in: sandbox.root, environment: ["GOOGLE_CLIENT_SECRET": PhotosEmulator.clientSecret], input: input)
    }

    /// The consent address the command printed.
    func consentAddress(_ auth: PipelineProcess) -> String? {
        _ = auth.waitForError { $0.contains("/o/oauth2/v2/auth?") }
        return auth.stderr.split(whereSeparator: \.isWhitespace).first { $0.contains("/o/oauth2/v2/auth?") }.map(String.init)
    }

    /// A browser at the consent page: Google (the emulator) answers with a redirect; this is where
    /// it points (the browser is not made to follow it).
    func redirect(from address: String) throws -> String {
        try Command.output(["curl", "-sS", "-o", "/dev/null", "-w", "%{redirect_url}", address])
    }

    /// Everything a test can read that might have recorded the token, besides the place asked for.
    func everythingRecorded(_ sandbox: Sandbox, _ processes: [PipelineProcess]) -> String {
        var text = processes.map { $0.lines.joined(separator: "\n") + $0.stderr }.joined()
        let files = FileManager.default.enumerator(atPath: sandbox.root)?.compactMap { $0 as? String } ?? []
        for file in files where !file.hasSuffix("token.txt") {
            if let data = FileManager.default.contents(atPath: sandbox.root + "/" + file) { text += String(decoding: data, as: UTF8.self) }
        }
        return text
    }

    @Test func theBrowserComesBackAndTheTokenMovesPhotos() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let auth = try startAuth(sandbox, emulator, ["--output", "token.txt"])
        let address = try #require(consentAddress(auth), "no address printed: \(auth.stderr)")
        let back = try redirect(from: address)
        #expect(back.hasPrefix("http://127.0.0.1:"), "\(back)")
        let page = try Command.output(["curl", "-sS", back])
        #expect(page.contains("close this tab"), "\(page)")
        #expect(auth.wait(timeout: 60) == 0, "\(auth.stderr)")
        let tokenPath = sandbox.root + "/token.txt"
        let mode = try FileManager.default.attributesOfItem(atPath: tokenPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let token = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(!token.isEmpty && token != PhotosEmulator.refreshToken, "a new refresh token")
        #expect(auth.lines.isEmpty, "with --output nothing goes to standard output")

        // A real run with the new token.
        try photos.randomFile(sandbox, "/a.jpg", size: 20_000)
        try photos.randomFile(sandbox, "/b.mp4", size: 70_000)
        try photos.writePipeline(sandbox, emulator)
        let run = try PipelineProcess(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root,
                                      environment: ["PHOTOS_CLIENT_SECRET": PhotosEmulator.clientSecret, "PHOTOS_REFRESH_TOKEN": token])
        #expect(run.wait(timeout: 120) == 0, "\(run.lines.suffix(5)) \(run.stderr)")
        photos.expectEveryFileOnce(sandbox, emulator, ["/a.jpg", "/b.mp4"])
        #expect(!everythingRecorded(sandbox, [auth, run]).contains(token), "the token was recorded somewhere else")
    }

    @Test func aBrowserElsewhereIsAnsweredByPastingTheAddress() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        let input = Pipe()
        let auth = try startAuth(sandbox, emulator, input: input)
        let address = try #require(consentAddress(auth), "no address printed: \(auth.stderr)")
        let back = try redirect(from: address)
        // A stale address first (another request's state): refused, and the command keeps waiting.
        let stale = back.replacingOccurrences(of: "state=", with: "state=old")
        input.fileHandleForWriting.write(Data((stale + "\n").utf8))
        #expect(auth.waitForError { $0.contains("was not taken") }, "\(auth.stderr)")
        #expect(auth.isRunning)
        input.fileHandleForWriting.write(Data((back + "\n").utf8))
        #expect(auth.wait(timeout: 60) == 0, "\(auth.stderr)")
        let printed = auth.lines.filter { !$0.isEmpty }
        #expect(printed.count == 1, "only the token goes to standard output: \(printed)")
        let token = printed.first ?? ""
        #expect(!token.isEmpty && !auth.stderr.contains(token), "the token is not among the messages")
        #expect(!everythingRecorded(sandbox, [auth]).replacingOccurrences(of: auth.lines.joined(separator: "\n"), with: "").contains(token))
    }

    @Test func aRefusalOnTheConsentPageSaysSoAndWritesNothing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        try emulator.setOptions(["consent": "deny"])
        let auth = try startAuth(sandbox, emulator, ["--output", "token.txt"])
        let address = try #require(consentAddress(auth), "no address printed: \(auth.stderr)")
        _ = try? Command.output(["curl", "-sS", try redirect(from: address)])
        #expect(auth.wait(timeout: 60) == 77, "\(auth.stderr)")
        #expect(auth.stderr.contains("access_denied") && auth.stderr.contains("Allow"), "\(auth.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.root + "/token.txt"))
    }

    @Test func anExistingOutputFileIsNeverOverwritten() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let emulator = try PhotosEmulator(directory: sandbox.root)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: sandbox.root + "/token.txt"))
        let auth = try startAuth(sandbox, emulator, ["--output", "token.txt"])
        #expect(auth.wait(timeout: 30) == 64, "\(auth.stderr)")
        #expect(auth.stderr.contains("exists"))
        #expect(try String(contentsOfFile: sandbox.root + "/token.txt", encoding: .utf8) == "keep")
    }
}
}
