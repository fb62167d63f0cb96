import Foundation
import PipelineCore
import Transfer

/// A local path as the kernel sees it, in bytes, so a name that is not UTF-8 (carried through the
/// state as `FileNameBytes` text) is opened, listed and created under its own bytes.
struct RawPath: Hashable, Sendable, CustomStringConvertible {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }
    /// The path a `FileNameBytes` text stands for (ordinary text: its UTF-8).
    init(_ text: some StringProtocol) { bytes = FileNameBytes.bytes(text) }

    /// `self/child`, the child given as `FileNameBytes` text.
    func appending(_ child: some StringProtocol) -> RawPath { RawPath(bytes: bytes + [UInt8(ascii: "/")] + FileNameBytes.bytes(child)) }
    func appending(bytes child: [UInt8]) -> RawPath { RawPath(bytes: bytes + [UInt8(ascii: "/")] + child) }

    var parent: RawPath {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return RawPath(bytes: Array(".".utf8)) }
        return RawPath(bytes: slash == 0 ? [UInt8(ascii: "/")] : Array(bytes[..<slash]))
    }

    /// As messages show it: the text form (bytes that are not UTF-8 as U+EF80–U+EFFF).
    var description: String { FileNameBytes.text(bytes) }

    func withCString<Result>(_ body: (UnsafePointer<CChar>) throws -> Result) rethrows -> Result {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }

    /// `stat(2)` (links followed), or nil.
    func status() -> stat? {
        var info = stat()
        return withCString { stat($0, &info) } == 0 ? info : nil
    }

    var exists: Bool {
        var info = stat()
        return withCString { lstat($0, &info) } == 0
    }

    /// Makes the folder and its parents; existing ones are fine.
    func makeDirectories() {
        guard !bytes.isEmpty, status() == nil else { return }
        parent.makeDirectories()
        _ = withCString { mkdir($0, 0o755) }
    }
}
