import Foundation
import Testing

extension EndToEnd {
/// Runs every case of the bad-input corpus (`Tests/Corpus`, described in its `cases.json`): each
/// ends with its expected status and message, and none crashes (a signal) or hangs.
@Suite("The bad-input corpus")
struct BadInputCorpusTests {
    struct Case: Decodable, CustomStringConvertible {
        var file: String
        var status: Int32
        var says: String
        var description: String { file }
    }

    static let corpus = PipelineProcess.repositoryRoot + "/Tests/Corpus"

    static var cases: [Case] {
        struct Manifest: Decodable { var cases: [Case] }
        guard let data = FileManager.default.contents(atPath: corpus + "/cases.json"),
              let manifest = try? JSONDecoder().decode(Manifest.self, from: data) else { return [] }
        return manifest.cases
    }

    @Test func everyFileOfTheCorpusHasACase() throws {
        let listed = Set(Self.cases.map(\.file))
        let present = try ["pipelines", "states", "listings", "stage-outputs"].flatMap { folder in
            try FileManager.default.contentsOfDirectory(atPath: Self.corpus + "/" + folder).map { folder + "/" + $0 }
        }
        #expect(!listed.isEmpty && Set(present) == listed, "files without a case: \(Set(present).subtracting(listed)), cases without a file: \(listed.subtracting(present))")
    }

    @Test(arguments: cases)
    func theCaseEndsAsExpected(_ corpusCase: Case) throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.write("/a.jpg", bytes: Array("x".utf8))
        let input = Self.corpus + "/" + corpusCase.file
        let stages = PipelineProcess.repositoryRoot + "/stages"
        var environment = ["PIPELINE_STAGES_PATH": stages]
        let arguments: [String]
        switch corpusCase.file.split(separator: "/").first {
        case "pipelines":
            try FileManager.default.copyItem(atPath: input, toPath: sandbox.pipelineFile)
            arguments = ["validate", "pipeline.yml"]
        case "states":
            try FileManager.default.copyItem(atPath: input, toPath: sandbox.statePath)
            arguments = ["status", "--state", sandbox.statePath]
        case "listings":
            try sandbox.writeListedPipeline(listing: [])
            try FileManager.default.removeItem(atPath: sandbox.root + "/listing.json")
            try FileManager.default.copyItem(atPath: input, toPath: sandbox.root + "/listing.json")
            arguments = ["run", "pipeline.yml", "--log-format", "plain"]
        default:
            try sandbox.writeListedPipeline(listing: [["path": "/a.bin", "size": 1]], then: """
                  - name: replay
                    run: replay
                """)
            try FileManager.default.createDirectory(atPath: sandbox.root + "/stages", withIntermediateDirectories: true)
            try "#!/bin/sh\ncat >/dev/null\ncat '\(input)'\n".write(toFile: sandbox.root + "/stages/replay", atomically: true, encoding: .utf8)
            chmod(sandbox.root + "/stages/replay", 0o755)
            environment["PIPELINE_STAGES_PATH"] = sandbox.root + "/stages:" + stages
            arguments = ["run", "pipeline.yml", "--log-format", "plain"]
        }
        let result = try PipelineProcess.run(arguments, in: sandbox.root, environment: environment, timeout: 60)
        #expect(result.status == corpusCase.status, "\(corpusCase.file): exit \(result.status)\n\(result.output.suffix(600))\n\(result.error)")
        #expect((result.output + result.error).contains(corpusCase.says), "\(corpusCase.file): \(result.output.suffix(600))\n\(result.error)")
    }
}
}
