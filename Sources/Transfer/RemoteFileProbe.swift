import CCurl

/// Asks a server for one file's size and modification time (FTP `SIZE` and `MDTM`, SFTP stat), over
/// one connection kept for the asks before and after a download: a remote file that changed while
/// it was downloaded shows a different answer. (`@unchecked`: one stage attempt uses it, one call
/// at a time.)
public final class RemoteFileProbe: @unchecked Sendable {
    private let endpoint: RemoteEndpoint
    private let path: String
    /// The connection, lent to the download in between.
    let easy: CurlEasy

    public init(endpoint: RemoteEndpoint, path: String) throws(CurlFailure) {
        self.endpoint = endpoint
        self.path = path
        easy = try CurlEasy()
        endpoint.configure(easy)
    }

    /// The file as the server describes it now (`modified` nil when it cannot say).
    public func current() throws(CurlFailure) -> RemoteFile {
        easy.setHandlers()
        easy.set(CURLOPT_URL, endpoint.url(for: path))
        easy.set(CURLOPT_RESUME_FROM_LARGE, offset: 0)
        easy.set(CURLOPT_NOBODY, true)
        easy.set(CURLOPT_FILETIME, true)
        defer {
            easy.set(CURLOPT_NOBODY, false)
            easy.set(CURLOPT_FILETIME, false)
        }
        try easy.perform()
        let size = easy.info(CURLINFO_CONTENT_LENGTH_DOWNLOAD_T) ?? -1
        let modified = easy.info(CURLINFO_FILETIME_T).flatMap { $0 >= 0 ? RemoteTime.iso8601(seconds: $0) : nil }
        return RemoteFile(path: path, size: size, modified: modified)
    }
}
