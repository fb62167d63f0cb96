import CCurl
import Foundation

/// Lists every file below an endpoint's base path, recursively, over one control connection.
///
/// Uses MLSD where the server has it (exact sizes and UTC times in one round trip per folder);
/// otherwise LIST, plus SIZE and MDTM per file for exact values. Links are not followed, so a
/// link loop cannot trap the walk; folders are visited once each, and a folder `entersFolder`
/// refuses (the source's `exclude`) not at all.
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
    private let entersFolder: (String) -> Bool
    private let easy: CurlEasy
    private var usesMLSD: Bool?

    /// `entersFolder` gets a folder's path without its trailing slash.
    public init(endpoint: RemoteEndpoint, mode: ListingMode = .auto, entersFolder: @escaping (String) -> Bool = { _ in true },
                shouldStop: @escaping () -> Bool = { false }) throws(CurlFailure) {
        self.endpoint = endpoint
        self.mode = mode
        self.entersFolder = entersFolder
        self.shouldStop = shouldStop
        easy = try CurlEasy()
        endpoint.configure(easy)
        if mode != .auto { usesMLSD = mode == .mlsd }
        // SFTP lists in `ls -l` form and has no MLSD.
        if endpoint.isSFTP { usesMLSD = false }
    }

    /// Every file, sorted by path within each folder, folders depth-first, and every entry left
    /// out with the reason: one that is gone by the time SIZE asks for it, a folder that can no
    /// longer be entered. A name that is not UTF-8 (a Latin-1 server) is carried as `FileNameBytes`
    /// text, so its exact bytes go back in the URL. A line the parser cannot read fails the walk.
    ///
    /// With `emit`, files are handed on `batchSize` at a time as folders are read (and the rest at
    /// the end) instead of being kept in the listing, so a huge tree is never whole in memory.
    public func walk(batchSize: Int = 1000, emit: (([RemoteFile]) -> Void)? = nil) throws(CurlFailure) -> RemoteListing {
        var listing = RemoteListing()
        var visited = Set<String>()
        var pending = [endpoint.basePath]
        while let directory = pending.popLast() {
            guard visited.insert(directory).inserted else { continue }
            let entries: [RemoteEntry]
            do {
                entries = try self.entries(of: directory, skipped: &listing.skipped)
            } catch where directory != endpoint.basePath && error.concernsOnlyThisPath {
                listing.skipped.append(.init(path: directory, reason: "the folder could not be entered (\(error.responseCode)): \(error.message); its files are not in this listing"))
                continue
            }
            var subdirectories: [String] = []
            for entry in entries.sorted(by: { $0.name < $1.name }) {
                let path = directory + entry.name
                switch entry.kind {
                case .directory:
                    guard entersFolder(path) else { continue }
                    if let unique = entry.unique, !visited.insert("unique:" + unique).inserted { continue }
                    subdirectories.append(path + "/")
                case .file:
                    do {
                        listing.files.append(try file(at: path, listed: entry))
                    } catch where error.concernsOnlyThisPath {
                        listing.skipped.append(.init(path: path, reason: "it was listed, but the server no longer has it or refuses it (\(error.responseCode)): \(error.message)"))
                    }
                case .link, .other:
                    continue
                }
            }
            pending.append(contentsOf: subdirectories.reversed())
            if let emit, listing.files.count >= batchSize {
                emit(listing.files)
                listing.files = []
            }
        }
        if let emit, !listing.files.isEmpty {
            emit(listing.files)
            listing.files = []
        }
        return listing
    }

    private func entries(of directory: String, skipped: inout [RemoteListing.Skipped]) throws(CurlFailure) -> [RemoteEntry] {
        var parse: (String) -> ListingLine = DirectoryListingParser.listLine
        var command: String?
        var lines: [String] = []
        if usesMLSD != false {
            do {
                lines = try self.lines(of: directory, command: "MLSD")
                usesMLSD = true
                parse = DirectoryListingParser.mlsdLine
                command = "MLSD"
            } catch where usesMLSD == nil && error.disposition == .permanent {
                // No MLSD here (vsftpd and others answer 500): LIST from now on.
                usesMLSD = false
            }
        }
        if usesMLSD == false { lines = try self.lines(of: directory, command: nil) }
        var entries: [RemoteEntry] = []
        for line in lines {
            switch parse(line) {
            case .ignored:
                continue
            case .unrecognized:
                throw CurlFailure(code: Int32(CURLE_WEIRD_SERVER_REPLY.rawValue),
                                  message: Self.unreadable(FileNameBytes.shown(line), directory: FileNameBytes.shown(directory), command: command))
            case .entry(let entry):
                entries.append(entry)
            }
        }
        return entries
    }

    /// Why a listing with a line the parser cannot read is refused rather than passed over.
    static func unreadable(_ line: String, directory: String, command: String?) -> String {
        "the \(command ?? "LIST") answer for '\(directory)' has a line this tool cannot read: \"\(line)\"; "
            + "the listing is refused rather than silently missing a file. Please report the line; "
            + (command == nil ? "a server that offers MLSD avoids LIST" : "the server's MLSD is not RFC 3659")
    }

    /// The answer to LIST (nil) or MLSD, line by line, as `FileNameBytes` text (bytes that are not
    /// UTF-8 kept).
    private func lines(of directory: String, command: String?) throws(CurlFailure) -> [String] {
        var received: [UInt8] = []
        setHandlers(data: { bytes in
            received.append(contentsOf: bytes)
            return true
        })
        easy.set(CURLOPT_NOBODY, false)
        easy.set(CURLOPT_FILETIME, false)
        easy.set(CURLOPT_URL, endpoint.url(for: directory, directory: true))
        easy.set(CURLOPT_CUSTOMREQUEST, command)
        defer { easy.set(CURLOPT_CUSTOMREQUEST, nil as String?) }
        try perform()
        return received.split(separator: UInt8(ascii: "\n")).map { line in
            FileNameBytes.text(line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...])
        }
    }

    /// The file with exact size and time: from MLSD as listed, else asked with SIZE and MDTM.
    private func file(at path: String, listed: RemoteEntry) throws(CurlFailure) -> RemoteFile {
        if usesMLSD == true, let size = listed.size, listed.modified != nil {
            return RemoteFile(path: path, size: size, modified: listed.modified)
        }
        setHandlers()
        easy.set(CURLOPT_URL, endpoint.url(for: path))
        easy.set(CURLOPT_NOBODY, true)
        easy.set(CURLOPT_FILETIME, true)
        do {
            try perform()
        } catch where error.code == Int32(CURLE_URL_MALFORMAT.rawValue) && listed.size != nil {
            // libcurl will not send a name with a control character: list it with what LIST
            // said, and the fetch stage explains what to do.
            return RemoteFile(path: path, size: listed.size ?? 0, modified: nil)
        }
        let size = easy.info(CURLINFO_CONTENT_LENGTH_DOWNLOAD_T) ?? listed.size ?? 0
        let modified = easy.info(CURLINFO_FILETIME_T).map { RemoteTime.iso8601(seconds: $0) }
        return RemoteFile(path: path, size: size, modified: modified)
    }

    /// Handlers for the next request, with a progress handler that aborts it on a stop, so a
    /// stop takes effect within about a second even while the server is slow to answer.
    private func setHandlers(data: ((UnsafeRawBufferPointer) -> Bool)? = nil) {
        easy.setHandlers(data: data, progress: { [shouldStop] _ in !shouldStop() })
    }

    /// Runs the request set up, unless a stop was asked for since the last one.
    private func perform() throws(CurlFailure) {
        guard !shouldStop() else { throw CurlFailure(code: Int32(CURLE_ABORTED_BY_CALLBACK.rawValue), message: "listing stopped") }
        try easy.perform()
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
