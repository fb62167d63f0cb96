import Foundation

/// A temporary folder with a source tree, a destination, and a pipeline file: one user's setup.
struct Sandbox {
    let root: String
    var source: String { root + "/src" }
    var destination: String { root + "/dest" }
    var workdir: String { root + "/work" }
    var pipelineFile: String { root + "/pipeline.yml" }
    var statePath: String { root + "/test.state" }

    init(_ name: String = #function) throws {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        root = NSTemporaryDirectory() + "pipeline-e2e-\(safe)-\(UUID().uuidString.prefix(8))"
        for folder in [source, destination] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
    }

    /// Files of pseudo-random bytes (deterministic per index) under `src`; returns their paths.
    @discardableResult
    func makeFiles(count: Int, sizes: ClosedRange<Int>, folders: Int = 3) throws -> [String] {
        var generator = SplitMix(seed: 42)
        var paths: [String] = []
        for index in 0..<count {
            let relative = "/album\(index % folders)/photo \(index).jpg"
            let size = Int(generator.next() % UInt64(sizes.count)) + sizes.lowerBound
            var words = [UInt64](repeating: 0, count: size / 8 + 1)
            for position in words.indices { words[position] = generator.next() }
            try write(relative, bytes: words.withUnsafeBytes { Array($0.prefix(size)) })
            paths.append(relative)
        }
        return paths
    }

    func write(_ relative: String, bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: source + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    /// A file of `size` random bytes at `path` (absolute), its folders made; streamed, never whole in memory.
    static func writeRandomFile(at path: String, size: Int) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        var remaining = size
        while remaining > 0 {
            let chunk = try random.read(upToCount: min(remaining, 4 << 20)) ?? Data()
            try output.write(contentsOf: chunk)
            remaining -= chunk.count
        }
        try output.close()
    }

    func writePipeline(_ text: String) throws {
        try text.write(toFile: pipelineFile, atomically: true, encoding: .utf8)
    }

    /// A pipeline listing `src` with `local-list` and fetching with `local-fetch`, then `stages`
    /// (YAML list entries, indented by four spaces). `settings` go at the top level; `sourceKeys`
    /// is one line of keys beside the source's `with:` (`exclude: […]`).
    func writeFetchPipeline(then stages: String = "", settings: String = "", sourceKeys: String = "", fetchWith: String = "root: src") throws {
        try writePipeline("""
            version: 1
            name: e2e
            state: test.state
            workdir: work
            \(settings.contains("stop_grace") ? "" : "stop_grace: 1s")
            \(settings)
            source:
              uses: local-list
              with: { root: src }
              \(sourceKeys)
            stages:
              - name: fetch
                uses: local-fetch
                with: { \(fetchWith) }
            \(stages)
            """)
    }

    /// The default fetch of a listed pipeline: each item written as that many "x" bytes.
    static let writeFixedFetch = """
          - name: fetch
            run: write-fixed
            with: { byte: "x" }
        """

    /// A pipeline whose source is `listing` (via `stages/list-json`), fetched by `fetch` (by
    /// default `stages/write-fixed`), then `stages`.
    func writeListedPipeline(listing: [[String: Any]], fetch: String = Sandbox.writeFixedFetch, then stages: String = "") throws {
        try JSONSerialization.data(withJSONObject: listing).write(to: URL(fileURLWithPath: root + "/listing.json"))
        try writePipeline("""
            version: 1
            state: test.state
            workdir: work
            source:
              run: list-json
              with: { file: listing.json }
            stages:
            \(fetch)
            \(stages)
            """)
    }

    /// The standard local pipeline: list → fetch → verify → upload → cleanup, with optional slowness.
    func writeLocalPipeline(concurrency: Int = 2, fetchRate: String? = nil, verifyRate: String? = nil,
                            uploadRate: String? = nil, maxFailures: Int = 3) throws {
        func rate(_ value: String?) -> String { value.map { ", rate_limit: \($0)" } ?? "" }
        try writeFetchPipeline(then: """
              - name: verify
                uses: checksum
                with: { algorithm: sha256\(rate(verifyRate)) }
              - name: upload
                uses: local-upload
                with: { destination: dest\(rate(uploadRate)) }
              - name: cleanup
                uses: delete-local
            """, settings: "concurrency: \(concurrency)\nmax_failures: \(maxFailures)", fetchWith: "root: src\(rate(fetchRate))")
    }

    /// Every regular file below `folder`, relative, with its bytes.
    func files(in folder: String) -> [String: Data] {
        var result: [String: Data] = [:]
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [:] }
        while let relative = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            let path = folder + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result["/" + relative] = FileManager.default.contents(atPath: path)
            }
        }
        return result
    }

    /// `pipeline status --json`, decoded.
    func status() throws -> [String: Any] {
        let result = try PipelineProcess.run(["status", "--state", statePath, "--json"], in: root)
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else {
            throw SandboxError("status failed (\(result.status)): \(result.error)")
        }
        return object
    }

    func statusItems() throws -> [String: [String: Any]] {
        let items = try status()["items"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: items.map { ($0["path"] as? String ?? "", $0) })
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

struct SandboxError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A small deterministic generator, so test files are the same on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

extension Dictionary where Key == String, Value == Any {
    func event(_ name: String, stage: String? = nil) -> Bool {
        self["event"] as? String == name && (stage == nil || self["stage"] as? String == stage)
    }

    /// In an item of `pipeline status --json`: the record of one stage (status, outputs, error).
    func stageRecord(_ stage: String) -> [String: Any]? {
        (self["stages"] as? [String: Any])?[stage] as? [String: Any]
    }

    /// In an item of `pipeline status --json`: one stage's outputs, empty if it has none.
    func stageOutputs(_ stage: String) -> [String: Any] {
        stageRecord(stage)?["outputs"] as? [String: Any] ?? [:]
    }
}
