import Foundation

/// Runs a command-line tool (`sha256sum`, `python3 -c`, `bsdtar`) and returns what it printed.
enum Command {
    @discardableResult
    static func output(_ arguments: [String], in directory: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SandboxError("\(arguments.prefix(2).joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return text
    }

    /// The first word of a `*sum` tool's line: the digest.
    static func digest(_ tool: String, _ path: String) throws -> String {
        String(try output([tool, path]).prefix { !$0.isWhitespace })
    }
}
