import Testing
@testable import PipelineCore

@Suite("Durations, sizes, patterns and variables")
struct ParsingTests {
    @Test("durations parse strictly", arguments: [
        ("90s", Int64(90_000)), ("5m", 300_000), ("5h30m", 19_800_000), ("250ms", 250), ("1d2h", 93_600_000), ("1.5s", 1500),
    ])
    func durationsParse(text: String, milliseconds: Int64) {
        #expect(TimeSpan(parsing: text)?.milliseconds == milliseconds)
    }

    @Test("malformed durations are refused", arguments: ["", "30", "5hh", "m5", "5m5h", "1 h", "-5s", "5x"])
    func badDurationsAreRefused(text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test("sizes parse with decimal and binary units", arguments: [
        ("200MB", Int64(200_000_000)), ("20GB", 20_000_000_000), ("1.5GiB", 1_610_612_736), ("512", 512), ("1KiB", 1024), ("3 kb", 3000),
    ])
    func sizesParse(text: String, bytes: Int64) {
        #expect(ByteSize(parsing: text)?.bytes == bytes)
    }

    @Test("malformed sizes are refused", arguments: ["", "MB", "12XB", "1.5.5GB", "-1GB", "ten"])
    func badSizesAreRefused(text: String) {
        #expect(ByteSize(parsing: text) == nil)
    }

    @Test func globPatternsMatchAtAnyDepthIgnoringCase() throws {
        let jpg = try #require(GlobPattern("**/*.jpg"))
        #expect(jpg.matches("/a.jpg"))
        #expect(jpg.matches("/x/y/IMG_1.JPG"))
        #expect(!jpg.matches("/x/y/clip.mkv"))
        let hidden = try #require(GlobPattern("**/.*"))
        #expect(hidden.matches("/a/.DS_Store"))
        #expect(!hidden.matches("/a/b.jpg"))
        let bare = try #require(GlobPattern("*.{jpg,jpeg}"))
        #expect(bare.matches("/deep/down/photo.jpeg"))
        let anchored = try #require(GlobPattern("/Movies/*.mkv"))
        #expect(anchored.matches("/Movies/a.mkv"))
        #expect(!anchored.matches("/Movies/sub/a.mkv"))
        #expect(GlobPattern("[abc") == nil)
    }

    @Test func interpolatesVariablesDefaultsAndEscapes() throws {
        let interpolator = EnvironmentInterpolator(environment: ["HOST": "ftp.example", "EMPTY": ""])
        #expect(try interpolator.interpolate("ftp://${HOST}/x").text == "ftp://ftp.example/x")
        #expect(try interpolator.interpolate("${EMPTY:-fallback}").text == "fallback")
        #expect(try interpolator.interpolate("${UNSET:-a b}").text == "a b")
        #expect(try interpolator.interpolate("cost $$5 and $HOME").text == "cost $5 and $HOME")
    }

    @Test func missingVariableNamesTheVariable() {
        let interpolator = EnvironmentInterpolator(environment: [:])
        #expect(throws: EnvironmentInterpolator.Failure.missing(variable: "FTP_PASSWORD", message: nil)) {
            try interpolator.interpolate("${FTP_PASSWORD}")
        }
        #expect(throws: EnvironmentInterpolator.Failure.missing(variable: "TOKEN", message: "set it in the CI secrets")) {
            try interpolator.interpolate("${TOKEN:?set it in the CI secrets}")
        }
    }

    @Test func redactorMasksSecretsLongestFirst() {
        let redactor = SecretRedactor(secrets: ["hunter22", "hunter22-extra", "ab"])
        #expect(redactor.redact("login with hunter22-extra and hunter22, ab") == "login with [redacted] and [redacted], ab")
    }

    @Test func nearestNameSuggestsTypos() {
        #expect(NameSuggester.nearest(to: "concurency", in: ["concurrency", "name"]) == "concurrency")
        #expect(NameSuggester.nearest(to: "local-fech", in: ["local-fetch", "checksum"]) == "local-fetch")
        #expect(NameSuggester.nearest(to: "zzzzzz", in: ["local-fetch"]) == nil)
    }

    @Test func retryBackoffFollowsTheListThenRepeatsItsLast() {
        var random = SystemRandomNumberGenerator()
        let policy = RetryPolicy(attempts: 5, backoff: .list([TimeSpan(milliseconds: 30_000), TimeSpan(milliseconds: 60_000)]))
        #expect(policy.delay(afterAttempt: 1, using: &random).milliseconds == 30_000)
        #expect(policy.delay(afterAttempt: 2, using: &random).milliseconds == 60_000)
        #expect(policy.delay(afterAttempt: 4, using: &random).milliseconds == 60_000)
    }

    @Test func exponentialBackoffDoublesUpToTheMaximumWithJitterBelowIt() {
        var random = SystemRandomNumberGenerator()
        let plain = RetryPolicy(attempts: 9, backoff: .exponential(initial: TimeSpan(milliseconds: 1000), maximum: TimeSpan(milliseconds: 5000), jitter: false))
        #expect((1...5).map { plain.delay(afterAttempt: $0, using: &random).milliseconds } == [1000, 2000, 4000, 5000, 5000])
        let jittered = RetryPolicy(attempts: 9, backoff: .exponential(initial: TimeSpan(milliseconds: 1000), maximum: TimeSpan(milliseconds: 5000), jitter: true))
        for _ in 0..<50 {
            let wait = jittered.delay(afterAttempt: 3, using: &random).milliseconds
            #expect((2000...4000).contains(wait))
        }
    }
}
