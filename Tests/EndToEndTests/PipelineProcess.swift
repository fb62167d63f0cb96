import Foundation
import Synchronization

/// The built `pipeline` binary, run as a child process the way a user or CI runs it.
///
/// Output is collected line by line as it arrives, so a test can wait for an event and then
/// `kill -9` the process in the middle of a stage. (`@unchecked`: the output lives behind mutexes;
/// the `Process` and reader threads are only touched from the test that owns them.)
final class PipelineProcess: @unchecked Sendable {
    /// `.build/debug/pipeline` of this package, or `$PIPELINE_BIN`.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["PIPELINE_BIN"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/pipeline").path
    }()

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    private let process = Process()
    /// Filled by the reader threads.
    private final class Captured: Sendable {
        let lines = Mutex<[String]>([])
        let error = Mutex<String>("")
    }

    private let captured = Captured()
    /// Signalled by each reader at end of file.
    private let readersDone = DispatchSemaphore(value: 0)
    private var drained = false
    private let readers: [Thread]

    /// `input`: what the process reads as standard input (nil: nothing, /dev/null).
    init(_ arguments: [String], in directory: String, environment: [String: String] = [:], input: Pipe? = nil) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let stages = ["PIPELINE_STAGES_PATH": Self.repositoryRoot + "/stages"]
        process.environment = ProcessInfo.processInfo.environment.merging(stages) { _, new in new }.merging(environment) { _, new in new }
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input ?? FileHandle.nullDevice
        let captured = self.captured, readersDone = self.readersDone
        readers = [
            Thread {
                var pending = Data()
                while case let chunk = stdout.fileHandleForReading.availableData, !chunk.isEmpty {
                    pending.append(chunk)
                    while let newline = pending.firstIndex(of: 10) {
                        let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                        captured.lines.withLock { $0.append(line) }
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                readersDone.signal()
            },
            Thread {
                while case let chunk = stderr.fileHandleForReading.availableData, !chunk.isEmpty {
                    captured.error.withLock { $0 += String(decoding: chunk, as: UTF8.self) }
                }
                readersDone.signal()
            },
        ]
        try process.run()
        for reader in readers { reader.start() }
    }

    var pid: Int32 { process.processIdentifier }
    var lines: [String] { captured.lines.withLock { $0 } }
    var stderr: String { captured.error.withLock { $0 } }
    var isRunning: Bool { process.isRunning }

    /// JSON events printed so far (with `--log-format json`).
    var events: [[String: Any]] { Self.events(in: lines.joined(separator: "\n")) }

    /// The JSON events among the lines of `output`.
    static func events(in output: String) -> [[String: Any]] {
        output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits until `count` events match, or the timeout passes; returns whether they did.
    @discardableResult
    func waitForEvents(count: Int = 1, timeout: Double = 30, where matches: ([String: Any]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if events.filter(matches).count >= count { return true }
            if !process.isRunning { return events.filter(matches).count >= count }
            usleep(5000)
        }
        return false
    }

    /// Waits until standard error holds what `matches` looks for (or the process ended).
    func waitForError(timeout: Double = 30, where matches: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if matches(stderr) { return true }
            if !process.isRunning { return matches(stderr) }
            usleep(5000)
        }
        return false
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the exit; returns the exit status (128 + n when killed by signal n).
    @discardableResult
    func wait(timeout: Double = 120) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(5000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        // Everything the process wrote is read before its output is looked at.
        if !drained {
            for _ in readers { _ = readersDone.wait(timeout: .now() + 10) }
            drained = true
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// Runs to completion; returns the exit status, stdout and stderr.
    static func run(_ arguments: [String], in directory: String, environment: [String: String] = [:], timeout: Double = 120) throws
        -> (status: Int32, output: String, error: String)
    {
        let process = try PipelineProcess(arguments, in: directory, environment: environment)
        let status = process.wait(timeout: timeout)
        return (status, process.lines.joined(separator: "\n"), process.stderr)
    }
}
