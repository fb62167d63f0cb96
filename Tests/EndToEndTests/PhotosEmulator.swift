import Foundation

/// `Scripts/photos-emulator` on loopback for one test: the Google Photos Library API as documented,
/// with faults switched on and off through its `/_emulator` endpoints, and stats that say what it
/// received (bytes per session, SHA-1 of each media item, duplicates).
final class PhotosEmulator {
    static let clientID = "emulator-client-id"
    static let clientSecret = "emulator-client-secret-5e3c"
    static let refreshToken = "emulator-refresh-token-9f1b"

    let dataDirectory: String
    let logPath: String
    private let server: ServerProcess
    var port: Int { server.port }

    init(directory: String, arguments: [String] = []) throws {
        dataDirectory = directory + "/photos"
        logPath = directory + "/photos-log.jsonl"
        server = try ServerProcess(
            script: "photos-emulator",
            arguments: ["--data-dir", dataDirectory, "--log", logPath, "--client-id", Self.clientID,
                        "--client-secret", Self.clientSecret, "--refresh-token", Self.refreshToken] + arguments,
            portFile: directory + "/photos-port", name: "Photos emulator")
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// The `with:` of a google-photos stage pointed here; `extra` adds keys (`, album: Trips`).
    func stageParameters(_ extra: String = "") -> String {
        // Short waits for tests, unless `extra` sets its own.
        let waits = ["rate_limit_wait: 200ms", "server_error_wait: 100ms", "batch_wait: 200ms"]
            .filter { !extra.contains(String($0.prefix { $0 != ":" }) + ":") }
        return """
            { client_id: \(Self.clientID), client_secret: "${PHOTOS_CLIENT_SECRET}", refresh_token: "${PHOTOS_REFRESH_TOKEN}", \
            api_base: "\(base)", token_url: "\(base)/token", \(waits.joined(separator: ", "))\(extra) }
            """
    }

    static let environment = ["PHOTOS_CLIENT_SECRET": clientSecret, "PHOTOS_REFRESH_TOKEN": refreshToken]

    // MARK: Control

    func addFault(_ fault: [String: Any]) throws { try post("/_emulator/faults", fault) }
    /// `POST /_emulator/options`: scopes, storage_bytes, used_token_answer, ….
    func setOptions(_ options: [String: Any]) throws { try post("/_emulator/options", options) }
    func deleteAlbum(_ id: String) throws { try request("DELETE", "/_emulator/albums/\(id)", body: nil) }
    /// Media items that exist already, as if an earlier job made them (`POST /_emulator/seed`).
    func seed(_ items: [[String: Any]]) throws { try post("/_emulator/seed", ["items": items]) }
    func expireUploadTokens() throws { try post("/_emulator/expire-upload-tokens", [:]) }
    func clearFaults() throws { try request("DELETE", "/_emulator/faults", body: nil) }
    func revokeRefreshToken() throws { try post("/_emulator/revoke", [:]) }
    func expireAccessTokens() throws { try post("/_emulator/expire-access-tokens", [:]) }

    /// `GET /_emulator/stats`.
    func stats() throws -> [String: Any] {
        let data = try request("GET", "/_emulator/stats", body: nil)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    var mediaItems: [[String: Any]] { ((try? stats())?["media_items"] as? [[String: Any]]) ?? [] }
    var sessions: [[String: Any]] { ((try? stats())?["sessions"] as? [[String: Any]]) ?? [] }
    var duplicates: [[String: Any]] { ((try? stats())?["duplicates"] as? [[String: Any]]) ?? [] }
    var albums: [[String: Any]] { ((try? stats())?["albums"] as? [[String: Any]]) ?? [] }
    /// Albums the user still has (not deleted, made by this app) with this title.
    func liveAlbums(titled title: String) -> [[String: Any]] {
        albums.filter { $0["title"] as? String == title && $0["deleted"] as? Bool != true && $0["foreign"] as? Bool != true }
    }
    /// Every access token the emulator handed out (to check none leaked).
    var accessTokens: [String] { ((try? stats())?["access_tokens_issued"] as? [String]) ?? [] }
    func requests(_ endpoint: String) -> Int { (((try? stats())?["requests"] as? [String: Any])?[endpoint] as? Int) ?? 0 }

    private func post(_ path: String, _ body: Any) throws {
        try request("POST", path, body: try JSONSerialization.data(withJSONObject: body))
    }

    /// A small synchronous request (curl CLI: Foundation's URLSession is not in every toolchain).
    @discardableResult
    private func request(_ method: String, _ path: String, body: Data?) throws -> Data {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["curl", "-sS", "--fail", "-X", method, base + path]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: body, as: UTF8.self)] }
        curl.arguments = arguments
        let output = Pipe()
        curl.standardOutput = output
        try curl.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        guard curl.terminationStatus == 0 else { throw SandboxError("emulator \(method) \(path) failed (curl \(curl.terminationStatus))") }
        return data
    }
}
