import CCurl
import Foundation

/// Lists every file below an endpoint's base path, recursively, over one control connection.
///
/// Uses MLSD where the server has it (exact sizes and UTC times in one round trip per folder);
/// otherwise LIST, plus SIZE and MDTM per file for exact values. Links are not followed, so a
/// link loop cannot trap the walk; folders are visited once each.
public final class RemoteTreeWalker {
    public enum ListingMode: String, Sendable, CaseIterable {
        /// MLSD when the server supports it, else LIST.
        case auto
        case mlsd
        case list
    }

    private let endpoint: RemoteEndpoint
    private let mode: ListingMode
    private let shouldStop: () -> Bool
    private let easy: CurlEasy
    private var usesMLSD: Bool?

    public init(endpoint: RemoteEndpoint, mode: ListingMode = .auto, shouldStop: @escaping () -> Bool = { false }) throws(CurlFailure) {
        self.endpoint = endpoint
        self.mode = mode
        self.shouldStop = shouldStop
        easy = try CurlEasy()
        endpoint.configure(easy)
        if mode != .auto { usesMLSD = mode == .mlsd }
        // SFTP lists in `ls -l` form and has no MLSD.
        if endpoint.isSFTP { usesMLSD = false }
    }

    /// Every file, sorted by path within each folder, folders depth-first.
    public func walk() throws(CurlFailure) -> [RemoteFile] {
        var files: [RemoteFile] = []
        var visited = Set<String>()
        var pending = [endpoint.basePath]
        while let directory = pending.popLast() {
            guard !shouldStop() else { throw CurlFailure(code: Int32(CURLE_ABORTED_BY_CALLBACK.rawValue), message: "listing stopped") }
            guard visited.insert(directory).inserted else { continue }
            var subdirectories: [String] = []
            for entry in try entries(of: directory).sorted(by: { $0.name < $1.name }) {
                let path = directory + entry.name
                switch entry.kind {
                case .directory:
                    if let unique = entry.unique, !visited.insert("unique:" + unique).inserted { continue }
                    subdirectories.append(path + "/")
                case .file:
                    files.append(try file(at: path, listed: entry))
                case .link, .other:
                    continue
                }
            }
            pending.append(contentsOf: subdirectories.reversed())
        }
        return files
    }

    private func entries(of directory: String) throws(CurlFailure) -> [RemoteEntry] {
        if usesMLSD != false {
            do {
                let lines = try lines(of: directory, command: "MLSD")
                usesMLSD = true
                return lines.compactMap(DirectoryListingParser.mlsdEntry)
            } catch where usesMLSD == nil && error.disposition == .permanent {
                // No MLSD here (vsftpd and others answer 500): LIST from now on.
                usesMLSD = false
            }
        }
        return try lines(of: directory, command: nil).compactMap(DirectoryListingParser.listEntry)
    }

    private func lines(of directory: String, command: String?) throws(CurlFailure) -> [String] {
        var received = Data()
        easy.setHandlers(data: { bytes in
            received.append(contentsOf: bytes)
            return true
        })
        easy.set(CURLOPT_NOBODY, false)
        easy.set(CURLOPT_FILETIME, false)
        easy.set(CURLOPT_URL, endpoint.url(for: directory, directory: true))
        easy.set(CURLOPT_CUSTOMREQUEST, command)
        defer { easy.set(CURLOPT_CUSTOMREQUEST, nil as String?) }
        try easy.perform()
        return String(decoding: received, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
    }

    /// The file with exact size and time: from MLSD as listed, else asked with SIZE and MDTM.
    private func file(at path: String, listed: RemoteEntry) throws(CurlFailure) -> RemoteFile {
        if usesMLSD == true, let size = listed.size, listed.modified != nil {
            return RemoteFile(path: path, size: size, modified: listed.modified)
        }
        easy.setHandlers()
        easy.set(CURLOPT_URL, endpoint.url(for: path))
        easy.set(CURLOPT_NOBODY, true)
        easy.set(CURLOPT_FILETIME, true)
        try easy.perform()
        let size = easy.info(CURLINFO_CONTENT_LENGTH_DOWNLOAD_T) ?? listed.size ?? 0
        let modified = easy.info(CURLINFO_FILETIME_T).map { RemoteTime.iso8601(seconds: $0) }
        return RemoteFile(path: path, size: size, modified: modified)
    }
}

/// UTC timestamps in ISO 8601, as listings report them.
public enum RemoteTime {
    public static func iso8601(seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}
