import PipelineCore
import Transfer

/// Answers "did the create call that was cut off go through?" by looking among the media items
/// this app created (`GET /v1/mediaItems`, which the appendonly scope cannot read: it needs
/// `photoslibrary.readonly.appcreateddata` as well).
///
/// Asked only after a crash between sending batchCreate and recording its answer, when the upload
/// token is then refused as already used: uploading again would make a second copy.
struct CreatedItemLookup {
    let client: PhotosLibraryClient

    /// The newest app-created item named `fileName` whose id is not `claimed` by another item.
    func find(fileName: String, excluding claimed: (String) throws -> Bool) throws(StageFailure) -> (id: String, productURL: String?)? {
        var pageToken: String?
        var found: (id: String, productURL: String?)?
        repeat {
            var url = client.url("/v1/mediaItems?pageSize=100")
            if let pageToken { url += "&pageToken=" + HTTPRequest.formEncoded(pageToken) }
            let response: HTTPResponse
            do {
                response = try client.send(HTTPRequest(.get, url), what: "listing the items this app created")
            } catch where error.kind == .permanent {
                throw .permanent("""
                    cannot tell whether '\(fileName)' was created before the last run was cut off: \(error.message). \
                    Authorise the photoslibrary.readonly.appcreateddata scope too, or look in Google Photos and then use \
                    `pipeline retry` (it would upload the file again)
                    """)
            }
            let page = try? JSONValue.parse(response.text)
            if case .array(let items)? = page?["mediaItems"] {
                for item in items where item["filename"]?.stringValue == fileName {
                    guard let id = item["id"]?.stringValue else { continue }
                    if (try? claimed(id)) == true { continue }
                    found = (id, item["productUrl"]?.stringValue)
                }
            }
            pageToken = page?["nextPageToken"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while pageToken != nil
        return found
    }
}
