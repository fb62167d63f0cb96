import Testing
@testable import PipelineCore

/// The same server message about different files reads as one, so `pipeline failures` groups it.
@Suite("Server messages are normalised")
struct FailureMessageTests {
    @Test(arguments: [
        ("'/a/IMG_1.jpg' is not on ftp://h or not readable (550): RETR failed", "'…' is not on ftp://h or not readable (550): RETR failed"),
        ("cannot open /backup/2024/raw/IMG_22.jpg: Permission denied", "cannot open PATH: Permission denied"),
        ("download of \"x.mkv\" ended at 1048576 of 5000000 bytes", "download of \"…\" ended at N of N bytes"),
        ("HTTP 503: The service is unavailable (3 tries)", "HTTP 503: The service is unavailable (N tries)"),
        ("upload: Connection reset (gave up after 3 attempts)", "upload: Connection reset"),
        ("sha256 is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08, sidecar says 00ff", "sha256 is HEX, sidecar says N"),
        ("took   2.5   seconds", "took N seconds"),
        ("Remote file not found: RETR response: 550", "Remote file not found: RETR response: 550"),
    ])
    func numbersPathsAndNamesAreReplaced(message: String, normalised: String) {
        #expect(FailureMessage.normalized(message) == normalised)
    }

    @Test func theSameMessageAboutOtherFilesIsOneAndAnotherStatusIsNot() {
        let one = FailureMessage.normalized("'/2019/a.jpg' is not on ftp://h (550): gone")
        #expect(one == FailureMessage.normalized("'/2023/raw/IMG_0042.JPG' is not on ftp://h (550): gone"))
        #expect(one != FailureMessage.normalized("'/2019/a.jpg' is not on ftp://h (450): gone"))
    }

    @Test func aLongMessageIsCut() {
        #expect(FailureMessage.normalized(String(repeating: "a ", count: 500), limit: 20).count == 21)
    }
}
