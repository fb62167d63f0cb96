import Foundation

/// OpenSSH's sshd on a loopback port, serving SFTP to a key made for the test; stopped with it.
final class SSHServer {
    let port: Int
    let clientKey: String
    let knownHosts: String
    private let pid: Int32

    init(directory: String) throws {
        let folder = directory + "/ssh"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for key in ["host_key", "client_key"] {
            try Self.execute("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", folder + "/" + key])
        }
        clientKey = folder + "/client_key"
        try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: folder + "/authorized_keys")
        knownHosts = folder + "/known_hosts"
        let hostKey = try String(contentsOfFile: folder + "/host_key.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")

        // sshd daemonizes itself (no -D): the test process keeps no long-lived child of its own.
        var started: (pid: Int32, port: Int)?
        for _ in 0..<5 where started == nil {
            let port = Int.random(in: 20_000...40_000)
            try """
                Port \(port)
                ListenAddress 127.0.0.1
                HostKey \(folder)/host_key
                PidFile \(folder)/sshd.pid
                AuthorizedKeysFile \(folder)/authorized_keys
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                PermitRootLogin prohibit-password
                StrictModes no
                UsePAM no
                Subsystem sftp internal-sftp
                """.write(toFile: folder + "/sshd_config", atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: folder + "/sshd.pid")
            try? Self.execute("/usr/sbin/sshd", ["-f", folder + "/sshd_config", "-E", folder + "/sshd.log"])
            let deadline = Date().addingTimeInterval(5)
            while Date() < deadline, started == nil {
                if let text = try? String(contentsOfFile: folder + "/sshd.pid", encoding: .utf8),
                    let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    started = (pid, port)
                } else {
                    usleep(50_000)
                }
            }
        }
        guard let started else { throw SandboxError("sshd did not start (Scripts/setup installs openssh-server)") }
        self.pid = started.pid
        self.port = started.port
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
    }

    /// SIGKILL, for the reason given in `FTPServer`.
    deinit {
        kill(pid, SIGKILL)
    }

    static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") }

    private static func execute(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw SandboxError("\(tool) failed") }
    }
}
