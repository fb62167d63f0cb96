import Foundation

/// `Scripts/ftp-server` (pyftpdlib) on loopback, for one test: started in the background, stopped
/// when the test is done. Its JSON log says what the client asked for (REST offsets) and what
/// each download sent.
final class FTPServer {
    static let user = "alice"
    static let password = "ftp-pa55word"

    let root: String
    let port: Int
    let logPath: String
    let controlPath: String
    private let process: Process

    /// Starts the server on `root`; `arguments` adds flags such as `--no-mlsd` or `--tls explicit`.
    init(root: String, arguments: [String] = [], directory: String) throws {
        self.root = root
        logPath = directory + "/ftp-log.jsonl"
        controlPath = directory + "/ftp-control.json"
        let portFile = directory + "/ftp-port"
        try? FileManager.default.removeItem(atPath: portFile)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", PipelineProcess.repositoryRoot + "/Scripts/ftp-server", "--root", root, "--port", "0",
                             "--port-file", portFile, "--user", "\(Self.user):\(Self.password)", "--log", logPath,
                             "--control", controlPath] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var port: Int?
        while port == nil, Date() < deadline, process.isRunning {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil { usleep(50_000) }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw SandboxError("the FTP server did not start (is pyftpdlib installed? Scripts/setup installs it)")
        }
        self.port = port
    }

    /// SIGKILL: the test runner's threads block SIGTERM and a child inherits that mask, so a
    /// polite stop would never arrive. A test server has nothing to save.
    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
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
