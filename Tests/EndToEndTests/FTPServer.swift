import Foundation

/// `Scripts/ftp-server` (pyftpdlib) on loopback, for one test: started in the background, stopped
/// when the test is done. Its JSON log says what the client asked for (REST offsets) and what
/// each download sent.
final class FTPServer {
    static let user = "alice"
    static let password = "ftp-pa55word"

    let root: String
    let logPath: String
    let controlPath: String
    private let server: ServerProcess
    var port: Int { server.port }

    /// Starts the server on `root`; `arguments` adds flags such as `--no-mlsd` or `--tls explicit`.
    init(root: String, arguments: [String] = [], directory: String) throws {
        self.root = root
        logPath = directory + "/ftp-log.jsonl"
        controlPath = directory + "/ftp-control.json"
        server = try ServerProcess(
            script: "ftp-server",
            arguments: ["--root", root, "--user", "\(Self.user):\(Self.password)", "--log", logPath, "--control", controlPath] + arguments,
            portFile: directory + "/ftp-port", name: "FTP server", hint: " (is pyftpdlib installed? Scripts/setup installs it)")
    }

    var url: String { "ftp://127.0.0.1:\(port)/" }

    /// Changes the faults for the next download (`{"drop_after": N}`, `{"stall_after": null}`).
    func control(_ faults: [String: Any]) throws {
        let temporary = controlPath + ".tmp"
        try JSONSerialization.data(withJSONObject: faults).write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, controlPath)
    }

    /// The log's events so far.
    var events: [[String: Any]] {
        PipelineProcess.events(in: (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")
    }

    /// The downloads of `path`, in order: where each started and how much it sent.
    func downloads(of path: String) -> [(offset: Int, bytes: Int, complete: Bool)] {
        events.filter { $0["event"] as? String == "retr_end" && $0["path"] as? String == path }.map {
            ($0["offset"] as? Int ?? -1, $0["bytes"] as? Int ?? -1, $0["complete"] as? Bool ?? false)
        }
    }
}
