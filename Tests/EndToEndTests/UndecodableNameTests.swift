import Foundation
import Testing

extension EndToEnd {
/// File names that are not UTF-8 (from an old Latin-1 disk) are listed, carried and placed
/// byte-exact, never dropped.
@Suite("Names that are not UTF-8")
struct UndecodableNameTests {
    /// Bytes of a path below `base`; Foundation's String paths cannot hold them.
    static func path(_ base: String, _ relative: [UInt8]) -> [UInt8] { Array(base.utf8) + relative }

    static func write(_ path: [UInt8], _ bytes: [UInt8]) throws {
        let descriptor = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        }
        guard descriptor >= 0 else { throw SandboxError("cannot create \(path): \(errno)") }
        defer { close(descriptor) }
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    static func read(_ path: [UInt8]) -> [UInt8]? {
        let descriptor = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_RDONLY) }
        }
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var result: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
        while case let count = Glibc.read(descriptor, &chunk, chunk.count), count > 0 { result += chunk.prefix(count) }
        return result
    }

    static func mkdir(_ path: [UInt8]) {
        _ = (path + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { Glibc.mkdir($0.baseAddress!, 0o755) }
        }
    }

    @Test func latin1NamesArriveByteExact() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let latin1: [UInt8] = Array("/caf".utf8) + [0xE9] + Array(".jpg".utf8)
        let folder: [UInt8] = Array("/r".utf8) + [0xE9, 0xFF]
        let nested = folder + Array("/x.jpg".utf8)
        // A valid name holding the characters the escape uses must stay distinct from the escapes.
        let lookalike = Array("/caf\u{EFE9}.jpg".utf8)
        Self.mkdir(Self.path(sandbox.source, folder))
        let files: [[UInt8]: [UInt8]] = [latin1: Array("one".utf8), nested: Array("two".utf8), lookalike: Array("three".utf8)]
        for (name, bytes) in files { try Self.write(Self.path(sandbox.source, name), bytes) }
        try sandbox.writeFetchPipeline(then: """
              - name: verify
                uses: checksum
              - name: upload
                uses: local-upload
                with: { destination: dest }
            """)
        let run = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root)
        #expect(run.status == 0, "\(run.output)\n\(run.error)")
        #expect(try sandbox.statusItems().count == 3, "every file is listed and recorded")
        for (name, bytes) in files {
            #expect(Self.read(Self.path(sandbox.destination, name)) == bytes, "\(name) arrives under its exact bytes")
        }
    }
}
}
