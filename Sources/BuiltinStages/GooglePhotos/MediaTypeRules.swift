import PipelineCore

/// What Google Photos accepts, checked before a byte is sent: anything else is refused only at
/// create time (`NOT_IMAGE`), after the whole upload, so it is skipped up front instead.
enum MediaTypeRules {
    enum Kind: String {
        case photo, video
    }

    /// Google's limits are stated in MB; decimal megabytes is the safe reading.
    static let photoLimit: Int64 = 200_000_000
    static let videoLimit: Int64 = 20_000_000_000

    private static let mimeTypes: [String: (Kind, String)] = [
        "avif": (.photo, "image/avif"), "bmp": (.photo, "image/bmp"), "gif": (.photo, "image/gif"),
        "heic": (.photo, "image/heic"), "heif": (.photo, "image/heif"), "ico": (.photo, "image/x-icon"),
        "jpg": (.photo, "image/jpeg"), "jpeg": (.photo, "image/jpeg"), "png": (.photo, "image/png"),
        "tif": (.photo, "image/tiff"), "tiff": (.photo, "image/tiff"), "webp": (.photo, "image/webp"),
        "dng": (.photo, "image/x-adobe-dng"), "cr2": (.photo, "image/x-canon-cr2"), "nef": (.photo, "image/x-nikon-nef"),
        "arw": (.photo, "image/x-sony-arw"), "orf": (.photo, "image/x-olympus-orf"), "rw2": (.photo, "image/x-panasonic-rw2"),
        "3gp": (.video, "video/3gpp"), "3g2": (.video, "video/3gpp2"), "asf": (.video, "video/x-ms-asf"),
        "avi": (.video, "video/x-msvideo"), "divx": (.video, "video/divx"), "m2t": (.video, "video/mp2t"),
        "m2ts": (.video, "video/mp2t"), "m4v": (.video, "video/x-m4v"), "mkv": (.video, "video/x-matroska"),
        "mmv": (.video, "video/x-mmv"), "mod": (.video, "video/mpeg"), "mov": (.video, "video/quicktime"),
        "mp4": (.video, "video/mp4"), "mpg": (.video, "video/mpeg"), "mts": (.video, "video/mp2t"),
        "tod": (.video, "video/mpeg"), "wmv": (.video, "video/x-ms-wmv"),
    ]

    static func kind(of fileName: String) -> Kind? { mimeTypes[fileExtension(fileName)]?.0 }

    static func mimeType(of fileName: String) -> String { mimeTypes[fileExtension(fileName)]?.1 ?? "application/octet-stream" }

    /// Why Google Photos would refuse the file, or nil when it may be uploaded.
    static func refusal(fileName: String, size: Int64) -> String? {
        guard let kind = kind(of: fileName) else {
            let shown = fileExtension(fileName).isEmpty ? "files without an extension" : "'.\(fileExtension(fileName))' files"
            return "Google Photos does not take \(shown) (photos and videos only)"
        }
        if size == 0 { return "the file is empty (Google Photos refuses empty uploads)" }
        let limit = kind == .photo ? photoLimit : videoLimit
        if size > limit {
            return "a \(kind.rawValue) of \(ByteSize.format(size)) is over Google Photos' \(ByteSize.format(limit)) limit for \(kind.rawValue)s"
        }
        return nil
    }

    private static func fileExtension(_ fileName: String) -> String {
        guard let dot = fileName.lastIndex(of: "."), dot != fileName.startIndex else { return "" }
        return fileName[fileName.index(after: dot)...].lowercased()
    }
}
