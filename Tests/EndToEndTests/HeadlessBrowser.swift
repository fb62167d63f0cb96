import Foundation

/// Debian's `chromium`, headless, the way CI can run it: as root (`--no-sandbox`), in a container
/// without a display or a GPU (`--headless=new --disable-gpu`), with a small /dev/shm
/// (`--disable-dev-shm-usage`), a fresh profile per call, and nothing fetched from the network.
///
/// Each call runs under coreutils `timeout` — only a hang guard, far above the second or two a page
/// takes — which puts chromium in a process group of its own; when the call returns, that group is
/// killed, so no renderer or zygote outlives it (`leftovers` checks).
struct HeadlessBrowser {
    let executable: String
    /// The hang guard of one call.
    static let hangGuard = "180s"

    /// `$CHROMIUM`, else `chromium` on PATH; a clear failure when neither exists (Scripts/setup installs it).
    init() throws {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [environment["CHROMIUM"]].compactMap { $0 }
            + (environment["PATH"] ?? "/usr/bin").split(separator: ":").map { "\($0)/chromium" }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw SandboxError("chromium is not installed (looked for $CHROMIUM and chromium on PATH): run Scripts/setup, which installs Debian's chromium")
        }
        executable = found
    }

    /// What one call left: its standard output, and the processes that outlived it (none, unless
    /// the cleanup failed).
    struct Visit {
        var output: String
        var leftovers: [String]
    }

    /// A PNG screenshot of the page at `file`, `width`×`height` pixels; `dark` asks for the dark colour scheme.
    func screenshot(of file: String, to png: String, width: Int = 1280, height: Int = 1800, dark: Bool = false) throws -> Visit {
        try? FileManager.default.removeItem(atPath: png)
        let visit = try run(["--screenshot=\(png)", "--window-size=\(width),\(height)", "--force-device-scale-factor=1", "--hide-scrollbars"]
                    + (dark ? ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] : []), file)
        guard FileManager.default.fileExists(atPath: png) else { throw SandboxError("chromium wrote no screenshot at \(png)") }
        return visit
    }

    /// The page at `file` printed to a PDF at `pdf` (A4/Letter as chromium chooses, no header or footer).
    func printToPDF(_ file: String, to pdf: String) throws -> Visit {
        try? FileManager.default.removeItem(atPath: pdf)
        let visit = try run(["--print-to-pdf=\(pdf)", "--no-pdf-header-footer"], file)
        guard FileManager.default.fileExists(atPath: pdf) else { throw SandboxError("chromium wrote no PDF at \(pdf)") }
        return visit
    }

    /// The DOM chromium built from the page at `file`, serialised (`--dump-dom`), as the visit's output.
    func dom(of file: String) throws -> Visit {
        try run(["--dump-dom"], file)
    }

    /// Processes still running with `profile` in their command line (chromium's children carry it).
    static func leftovers(of profile: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
            let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return command.contains(profile) ? "\(pid): \(command.prefix(160))" : nil
        }
    }

    /// Runs chromium on `file` with `arguments`.
    private func run(_ arguments: [String], _ file: String) throws -> Visit {
        let profile = NSTemporaryDirectory() + "pipeline-chromium-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        // Output to files, not pipes: a child that kept a pipe open would keep a reader waiting.
        let stdoutPath = profile + ".out", stderrPath = profile + ".err"
        for path in [stdoutPath, stderrPath] where !FileManager.default.createFile(atPath: path, contents: nil) {
            throw SandboxError("cannot create \(path) for chromium's output")
        }
        defer {
            try? FileManager.default.removeItem(atPath: stdoutPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = ["--kill-after=10s", Self.hangGuard, executable,
                             "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                             "--disable-background-networking", "--disable-component-update", "--mute-audio",
                             "--user-data-dir=\(profile)"] + arguments + [URL(fileURLWithPath: file).absoluteString]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        process.waitUntilExit()
        // `timeout` led chromium's process group: end whatever of it is still there.
        kill(-process.processIdentifier, SIGKILL)
        let leftovers = Self.awaitGone(profile)
        let output = String(decoding: FileManager.default.contents(atPath: stdoutPath) ?? Data(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let errors = String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
                .split(separator: "\n").filter { !$0.contains("dbus") }.suffix(12).joined(separator: "\n")
            throw SandboxError("chromium exited with \(process.terminationStatus)\(process.terminationStatus == 124 ? " (hung: stopped after \(Self.hangGuard))" : ""): \(errors)")
        }
        return Visit(output: output, leftovers: leftovers)
    }

    /// The processes carrying `profile` once a killed group has had time to go (a hang guard of ten
    /// seconds; usually none is there at the first look).
    private static func awaitGone(_ profile: String) -> [String] {
        let deadline = Date().addingTimeInterval(10)
        var left = leftovers(of: profile)
        while !left.isEmpty, Date() < deadline {
            usleep(20_000)
            left = leftovers(of: profile)
        }
        return left
    }
}
