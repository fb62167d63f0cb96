import Foundation

/// A TCP port on loopback that only counts who connects: where a test points something that must
/// never be contacted (a session URL planted in a state file).
final class ConnectionTrap {
    let port: Int
    private let process: Process
    private let log: String

    init(directory: String) throws {
        log = directory + "/trap-connections"
        let portFile = directory + "/trap-port"
        FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import socket, sys, os
            server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(16)
            with open(sys.argv[1] + ".tmp", "w") as f: f.write(str(server.getsockname()[1]))
            os.rename(sys.argv[1] + ".tmp", sys.argv[1])
            while True:
                connection, _ = server.accept()
                with open(sys.argv[2], "a") as f: f.write("connection\\n")
                connection.close()
            """, portFile, log]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        var port: Int?
        while port == nil, Date() < deadline {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { usleep(50_000) }
        }
        guard let port else { throw SandboxError("the connection trap did not start") }
        self.port = port
    }

    var connections: Int { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
