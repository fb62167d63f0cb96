import CCurl
import Foundation

/// Asks an FTP server for a file's digest, computed on its side (`XSHA256`, `XSHA1`, `XMD5`,
/// `XCRC`, or the draft-standard `HASH`), so a copy can be checked against the source without
/// reading it twice. Only what the server's `FEAT` advertises is used.
public final class ServerHash {
    private let endpoint: RemoteEndpoint
    private let easy: CurlEasy
    /// The FEAT words, uppercased (`XSHA256`, `HASH`, …); empty for SFTP.
    public let features: Set<String>

    public init(endpoint: RemoteEndpoint) throws(CurlFailure) {
        self.endpoint = endpoint
        easy = try CurlEasy()
        endpoint.configure(easy)
        guard !endpoint.isSFTP else {
            features = []
            return
        }
        let lines = try Self.replies(to: ["FEAT"], endpoint: endpoint, easy: easy)
        features = Set(lines.filter { $0.hasPrefix(" ") }.compactMap { $0.split(separator: " ").first.map { $0.uppercased() } })
    }

    /// The X-command and the HASH name for each algorithm we can compare.
    private static let commands: [String: (xCommand: String, hashName: String)] = [
        "sha256": ("XSHA256", "SHA-256"), "sha1": ("XSHA1", "SHA-1"), "sha512": ("XSHA512", "SHA-512"),
        "md5": ("XMD5", "MD5"), "crc32": ("XCRC", "CRC32"),
    ]

    /// True when the server can compute `algorithm` (our names: sha256, sha1, md5, crc32, sha512).
    public func supports(_ algorithm: String) -> Bool {
        guard let command = Self.commands[algorithm] else { return false }
        return features.contains(command.xCommand) || features.contains("HASH")
    }

    /// The server's digest of `path` as lowercase hex, or nil if it cannot compute that one.
    /// `hexLength` picks the digest out of the reply.
    public func digest(of path: String, algorithm: String, hexLength: Int) throws(CurlFailure) -> String? {
        guard let command = Self.commands[algorithm], supports(algorithm) else { return nil }
        // Relative to the login directory, as the URL's path is.
        let relative = String(path.drop(while: { $0 == "/" }))
        let quote = features.contains(command.xCommand)
            ? ["\(command.xCommand) \(relative)"]
            : ["OPTS HASH \(command.hashName)", "HASH \(relative)"]
        let lines = try Self.replies(to: quote, endpoint: endpoint, easy: easy)
        for line in lines.reversed() where line.first == "2" {
            for word in line.split(separator: " ") where word.count == hexLength && word.allSatisfy(\.isHexDigit) {
                return word.lowercased()
            }
        }
        return nil
    }

    /// Sends `commands` after login and returns every reply line the server sent.
    private static func replies(to commands: [String], endpoint: RemoteEndpoint, easy: CurlEasy) throws(CurlFailure) -> [String] {
        var lines: [String] = []
        easy.setHandlers(header: { lines.append($0) })
        easy.set(CURLOPT_URL, endpoint.url(for: "/", directory: true))
        easy.set(CURLOPT_NOBODY, true)
        easy.set(CURLOPT_QUOTE, list: commands)
        try easy.perform()
        return lines
    }
}
