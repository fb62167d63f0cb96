import Foundation

/// A test server script from `Scripts/` running in the background: started with `--port 0
/// --port-file FILE`, ready once it has written the port it listens on, killed when released.
final class ServerProcess {
    let port: Int
    private let process: Process

    /// Starts `Scripts/<script>` with `arguments` and waits up to 20 s for its port.
    init(script: String, arguments: [String], portFile: String, name: String, hint: String = "") throws {
        try? FileManager.default.removeItem(atPath: portFile)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", PipelineProcess.repositoryRoot + "/Scripts/" + script, "--port", "0", "--port-file", portFile] + arguments
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
            throw SandboxError("the \(name) did not start\(hint)")
        }
        self.port = port
    }

    /// SIGKILL: the test runner's threads block SIGTERM and a child inherits that mask, so a
    /// polite stop would never arrive. A test server has nothing to save.
    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
