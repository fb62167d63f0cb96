import Foundation
import Testing
@testable import BuiltinStages
@testable import PipelineCore
import Transfer

/// Every failure gets a category: told from the message when the stage gave none, and set by the
/// stages that know (libcurl's codes, Google's answers, errno, the external protocol).
@Suite("Failures are put in their category")
struct FailureClassifierTests {
    @Test(arguments: [
        ("cannot write '/work/a.jpg%partial': No space left on device", FailureCategory.diskFull),
        ("cannot open '/backup/x.jpg': Permission denied", .permission),
        ("cannot place the copy at '/backup/x.jpg': Operation not permitted", .permission),
        ("upload timed out after 2h", .timeout),
        ("ftp://127.0.0.1:2121: Failed to connect to 127.0.0.1 port 2121: Connection refused", .network),
        ("ftp://host: Connection reset by peer", .network),
        ("ftp://host: SSL certificate problem: self-signed certificate", .tls),
        ("login to ftp://host as 'alice' was refused (530): check the username and password", .authentication),
        ("upload: HTTP 429: Quota exceeded for quota metric 'Write requests' (3 tries)", .quota),
        ("upload: HTTP 503: The service is currently unavailable (3 tries)", .serverError),
        ("'/a/IMG_1.jpg' is not on ftp://host or not readable (550): RETR response: 550", .remoteMissing),
        ("source and copy differ: the copy's sha256 is ab, the sidecar says cd", .corruptSource),
        ("Google Photos refused 'a.mts': NOT_IMAGE: unsupported media type", .unsupportedType),
        ("The request exceeded the max file size limit of 20 GB. (too large)", .tooLarge),
        ("size-check was killed by signal 9", .stageCrashed),
        ("something nobody foresaw", .other),
        // A number inside a name is no status code.
        ("/photos/IMG_5001.jpg could not be read", .other),
        ("/photos/IMG_4290.jpg: Connection reset by peer", .network),
    ])
    func theMessageTellsTheCategory(message: String, category: FailureCategory) {
        #expect(FailureClassifier.category(of: message) == category, "\(message)")
    }

    @Test func errnoTellsDiskFullPermissionAndMissing() {
        #expect(FailureClassifier.category(errno: ENOSPC) == .diskFull)
        #expect(FailureClassifier.category(errno: EACCES) == .permission)
        #expect(FailureClassifier.category(errno: EPERM) == .permission)
        #expect(FailureClassifier.category(errno: EROFS) == .permission)
        #expect(FailureClassifier.category(errno: ENOENT) == .remoteMissing)
        #expect(FailureClassifier.category(errno: EISDIR) == nil)
    }

    @Test(arguments: [
        (7, 0, FailureCategory.network), (6, 0, .network), (56, 0, .network), (18, 0, .network), (55, 0, .network),
        (28, 0, .timeout), (35, 0, .tls), (60, 0, .tls), (67, 530, .authentication), (78, 550, .remoteMissing),
        (19, 550, .remoteMissing), (19, 450, .serverError), (9, 550, .permission), (19, 421, .network),
    ])
    func libcurlCodesTellTheCategory(code: Int32, reply: Int, category: FailureCategory) {
        #expect(RemoteConnection.category(of: CurlFailure(code: code, message: "libcurl said so", responseCode: reply)) == category)
    }

    @Test func aFullDiskWhileDownloadingIsDiskFull() {
        let full = CurlFailure(code: 23, message: "cannot write the download: No space left on device")
        #expect(RemoteConnection.category(of: full) == .diskFull)
        #expect(RemoteConnection.category(of: CurlFailure(code: 23, message: "Failure writing output to destination")) == .other)
    }

    @Test(arguments: [
        (401, "Request had invalid authentication credentials.", FailureCategory.authentication),
        (403, "Request had insufficient authentication scopes.", .authentication),
        (403, "PERMISSION_DENIED: The caller does not have permission", .permission),
        (429, "Quota exceeded for quota metric 'Write requests'", .quota),
        (500, "Internal error encountered.", .serverError), (503, "The service is currently unavailable.", .serverError),
        (413, "The request exceeded the max file size limit of 20 GB.", .tooLarge),
        (400, "invalid_grant: Token has been expired or revoked.", .authentication),
        (400, "Invalid media type", .unsupportedType),
    ])
    func googlesHTTPAnswersTellTheCategory(status: Int, message: String, category: FailureCategory) {
        #expect(PhotosFailureCategory.of(httpStatus: status, message: message) == category)
    }

    @Test(arguments: [
        (3, "NOT_IMAGE: There was an error while trying to create this media item.", FailureCategory.unsupportedType),
        (3, "BAD_IMAGE: There was an error while trying to create this media item. The photo is larger than 200 MB.", .tooLarge),
        (3, "BAD_VIDEO: There was an error while trying to create this media item.", .corruptSource),
        (7, "PERMISSION_DENIED", .permission), (8, "RESOURCE_EXHAUSTED", .quota),
        (13, "Failed: There was an error while trying to create this media item.", .serverError), (16, "UNAUTHENTICATED", .authentication),
    ])
    func aMediaItemsStatusTellsTheCategory(code: Int, message: String, category: FailureCategory) {
        #expect(PhotosFailureCategory.of(itemCode: code, message: message) == category)
    }

    @Test func anExternalStageMayNameTheCategoryAndAnUnknownOneBreaksTheProtocol() {
        let named = ExternalStageMessage.parse(#"{"type":"result","status":"error","message":"no .mts","category":"unsupported_type"}"#)
        guard case .result(.error("no .mts", false, false, .unsupportedType)) = named else {
            Issue.record("not parsed with its category: \(named)")
            return
        }
        guard case .result(.error(_, true, false, nil)) = ExternalStageMessage.parse(#"{"type":"result","status":"error","message":"x","retryable":true}"#) else {
            Issue.record("an error without a category should carry none")
            return
        }
        guard case .malformed(let problem) = ExternalStageMessage.parse(#"{"type":"result","status":"error","message":"x","category":"gremlins"}"#) else {
            Issue.record("an unknown category must be a protocol error")
            return
        }
        #expect(problem.contains("unsupported_type") && problem.contains("gremlins"))
    }
}
