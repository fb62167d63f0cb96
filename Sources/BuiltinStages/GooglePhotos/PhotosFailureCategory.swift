import PipelineCore

/// What Google's answers mean for `pipeline failures`: an HTTP status with its message, or the
/// status code of one media item in a batchCreate (Google's RPC codes).
enum PhotosFailureCategory {
    /// An HTTP answer that refused a call (`PhotosLibraryClient.failure`).
    static func of(httpStatus status: Int, message: String) -> FailureCategory {
        let text = message.lowercased()
        switch status {
        case 401: return .authentication
        case 403 where text.contains("scope"): return .authentication
        case 403: return .permission
        case 413: return .tooLarge
        case 429: return .quota
        case 500...599: return .serverError
        case 400 where text.contains("invalid_grant"): return .authentication
        case 400 where text.contains("insufficient tokens for quota"): return .quota
        default: return itemCategory(text) ?? FailureClassifier.category(of: message)
        }
    }

    /// A media item's own status in a batchCreate answer.
    static func of(itemCode code: Int, message: String) -> FailureCategory {
        switch code {
        case 7: return .permission
        case 8: return .quota
        case 13, 14: return .serverError
        case 16: return .authentication
        case 4: return .timeout
        default: return itemCategory(message.lowercased()) ?? FailureClassifier.category(of: message)
        }
    }

    /// Google's words for a file it does not take: `NOT_IMAGE`/`NOT_VIDEO` (the kind), `BAD_IMAGE`/
    /// `BAD_VIDEO` with "larger than" (the size), else a damaged file.
    private static func itemCategory(_ text: String) -> FailureCategory? {
        if text.contains("larger than") || text.contains("too large") || text.contains("max file size") { return .tooLarge }
        if text.contains("not_image") || text.contains("not_video") || text.contains("unsupported") || text.contains("invalid media") {
            return .unsupportedType
        }
        if text.contains("bad_image") || text.contains("bad_video") { return .corruptSource }
        if text.contains("permission_denied") { return .permission }
        if text.contains("resource_exhausted") { return .quota }
        if text.contains("unauthenticated") || text.contains("invalid_grant") { return .authentication }
        return nil
    }
}
