import CCurl
import Foundation

/// Reads small remote files (a `NAME.sha256` sidecar, a `SHA256SUMS` list) into memory, one after
/// another over one connection: looking for an item's sidecars costs one login, not one per try.
public final class RemoteTextReader {
    private let endpoint: RemoteEndpoint
    private let easy: CurlEasy

    public init(endpoint: RemoteEndpoint) throws(CurlFailure) {
        self.endpoint = endpoint
        easy = try CurlEasy()
        endpoint.configure(easy)
    }

    /// The file's text, or nil when it does not exist. Anything over `limit` bytes is refused:
    /// a sidecar is never large, and a huge one is not what we are looking for.
    public func read(_ path: String, limit: Int = 4 << 20) throws(CurlFailure) -> String? {
        easy.set(CURLOPT_URL, endpoint.url(for: path))
        var received: [UInt8] = []
        easy.setHandlers(data: { bytes in
            guard received.count + bytes.count <= limit else { return false }
            received.append(contentsOf: bytes)
            return true
        })
        do {
            try easy.perform()
        } catch where error.code == Int32(CURLE_REMOTE_FILE_NOT_FOUND.rawValue) || error.code == Int32(CURLE_REMOTE_ACCESS_DENIED.rawValue) {
            return nil
        } catch where error.code == Int32(CURLE_FTP_COULDNT_RETR_FILE.rawValue) && error.responseCode == 550 {
            return nil
        }
        return String(decoding: received, as: UTF8.self)
    }
}
