import PipelineCore
import Transfer

/// Sends a small file's bytes in one request (Google's "raw" upload protocol) and returns the
/// upload token: one request instead of the resumable protocol's two or more, which matters
/// because every request counts against the project's 10,000 a day.
///
/// Nothing to resume: a cut-off attempt sends the file again, which for a small file costs less
/// than the session would. No media item exists until batchCreate, so nothing is duplicated.
struct RawUpload {
    let client: PhotosLibraryClient
    let file: String
    let size: Int64
    let fileName: String
    let context: StageContext

    func run() throws(StageFailure) -> String {
        let request = HTTPRequest(.post, client.url("/v1/uploads"), headers: [
            ("Content-Type", "application/octet-stream"),
            ("X-Goog-Upload-Content-Type", MediaTypeRules.mimeType(of: fileName)),
            ("X-Goog-Upload-Protocol", "raw"),
            ("X-Goog-Upload-File-Name", UploadHeaders.fileName(fileName)),
        ], body: .fileRegion(path: file, offset: 0, length: size))
        let response = try client.send(request, what: "uploading '\(fileName)'") { sent in
            context.progress(bytes: sent, total: size)
        }
        let token = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw .retryable("the upload of '\(fileName)' finished without an upload token") }
        return token
    }
}

/// Header values derived from a file name.
enum UploadHeaders {
    /// Control characters (possible in remote names) cannot go in a header; batchCreate sends the
    /// exact name in JSON, and that is the name Google Photos keeps.
    static func fileName(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { $0.isASCIIControl ? "_" : $0 }))
    }
}
