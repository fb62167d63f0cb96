import Foundation

/// A private PostgreSQL cluster for one test process, started by `Scripts/postgres-server` on first
/// use and stopped when the process exits (or, if it is killed, by the script's watcher).
///
/// One cluster for all suites keeps startup (initdb, a few seconds) out of each test; a test takes
/// a database of its own with `makeDatabase()`. The server listens on a unix socket in a temporary
/// folder only, so it never clashes with a port or another cluster.
public final class PostgresServer: Sendable {
    /// The folder holding the cluster (`data/`), its socket (`socket/`) and its log (`server.log`).
    public let directory: String
    public let socketDirectory: String
    /// The login role the tests use (password auth) and its password.
    public let user: String
    public let password: String
    /// How long initdb, start and readiness took, for the report.
    public let startupSeconds: Double

    /// The cluster of this test process, started on first call.
    public static func shared() throws -> PostgresServer { try started.get() }

    private static let started = Result<PostgresServer, any Error> {
        let server = try PostgresServer()
        atexit { PostgresServer.stopShared() }
        return server
    }

    private static func stopShared() {
        if case .success(let server) = started { try? Self.run(["stop", server.directory]) }
    }

    /// `postgresql://user:password@/database?host=socket`; another password for refusal tests.
    public func url(database: String, password: String? = nil) -> String {
        "postgresql://\(user):\(password ?? self.password)@/\(database)?host=\(socketDirectory)"
    }

    /// A fresh, empty database owned by `user`, named after the calling test; returns its URL.
    public func makeDatabase(_ test: String = #function) throws -> String {
        let stem = test.lowercased().filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) }.prefix(40)
        let name = "t_\(stem)_\(UInt32.random(in: 0...UInt32.max))"
        try Self.run(["createdb", directory, name])
        return url(database: name)
    }

    private init() throws {
        guard FileManager.default.fileExists(atPath: Self.script) else {
            throw PostgresServerError("\(Self.script) is missing")
        }
        // Short (a socket path holds 107 bytes) and searchable by the `postgres` user.
        directory = "/tmp/pipeline-pg-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        let started = Date()
        try Self.run(["start", directory, "--owner", String(getpid())])
        startupSeconds = Date().timeIntervalSince(started)
        let settings = try String(contentsOfFile: directory + "/server.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in settings.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let socket = values["socket"], let user = values["user"], let password = values["password"] else {
            throw PostgresServerError("\(directory)/server.env lacks socket, user or password")
        }
        socketDirectory = socket
        self.user = user
        self.password = password
    }

    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/Scripts/postgres-server"

    /// Runs the script; its messages (which say "run Scripts/setup" when PostgreSQL is missing) become the error.
    ///
    /// posix_spawn and a blocking waitpid, not Foundation's `Process`: its exit is noticed on a
    /// Dispatch queue, whose threads on Linux are the Swift executor's two, which the tests that
    /// wait for the shared server may all be holding.
    private static func run(_ arguments: [String]) throws {
        let output = NSTemporaryDirectory() + "postgres-server-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = (["/bin/bash", script] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", &actions, nil, argv, environ)
        guard spawned == 0 else { throw PostgresServerError("cannot start \(script): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WIFEXITED/WEXITSTATUS are macros Swift cannot import.
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitCode == 0 else {
            let message = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw PostgresServerError("Scripts/postgres-server \(arguments[0]) failed (\(exitCode)): "
                + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// Why the test cluster could not start or serve; the script's own words included.
public struct PostgresServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
