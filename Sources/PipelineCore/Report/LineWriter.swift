import Foundation
import Synchronization

/// Writes whole lines to a file descriptor from any thread, with secrets masked.
public final class LineWriter: Sendable {
    private let handle: FileHandle
    private let redactor: SecretRedactor
    private let lock = Mutex(())

    public init(handle: FileHandle = .standardOutput, redactor: SecretRedactor) {
        self.handle = handle
        self.redactor = redactor
    }

    public func write(_ text: String) {
        let data = Data(redactor.redact(text).utf8)
        lock.withLock { _ in handle.write(data) }
    }

    public func line(_ text: String) { write(text + "\n") }

    /// A line written as is, secrets included: only for `::add-mask::`, whose purpose is to hand
    /// a secret to the GitHub runner so that it masks it in everything printed afterwards.
    func unredactedLine(_ text: String) {
        let data = Data((text + "\n").utf8)
        lock.withLock { _ in handle.write(data) }
    }

    /// Runs `body` with the writer held, for multi-line redraws that must not interleave.
    public func exclusive(_ body: (_ write: (String) -> Void) -> Void) {
        lock.withLock { _ in
            var buffer = ""
            body { buffer += $0 }
            handle.write(Data(redactor.redact(buffer).utf8))
        }
    }
}
