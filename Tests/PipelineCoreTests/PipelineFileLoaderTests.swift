import BuiltinStages
import Foundation
import Testing
@testable import PipelineCore

@Suite("Pipeline files")
struct PipelineFileLoaderTests {
    static let valid = """
        version: 1
        name: photos-backup
        state: photos-backup.state
        workdir: work
        concurrency: 2
        time_budget: 5h30m
        max_failures: 3
        source:
          uses: local-list
          with: { root: /data/photos }
          include: ["**/*.jpg", "**/*.mkv"]
          exclude: ["**/.*"]
          max_size: 20GB
        stages:
          - name: fetch
            uses: local-fetch
            retry: { attempts: 5, backoff: [30s, 60s, 120s, 300s, 600s] }
            timeout: 2h
          - name: verify
            uses: checksum
            with: { algorithm: sha256 }
          - name: upload
            uses: local-upload
            with: { destination: "${DEST:-/backup/photos}", password: "${PHOTO_SECRET}" }
          - name: cleanup
            uses: delete-local
        """

    func load(_ text: String, environment: [String: String] = ["PHOTO_SECRET": "s3cr3t-value"]) throws -> PipelineFile {
        try PipelineFileLoader(environment: environment, catalog: ExtendedCatalog()).parse(text, path: "/pipelines/transfer.yml", displayName: "transfer.yml")
    }

    /// `local-upload` with an extra `password` parameter, to show how secrets are collected.
    struct ExtendedCatalog: StageCatalog {
        var descriptors: [StageDescriptor] {
            BuiltinStageCatalog().descriptors.map { descriptor in
                guard descriptor.name == "local-upload" else { return descriptor }
                var extended = descriptor
                extended.parameters.append(.init("password", "for the test"))
                return extended
            }
        }
    }

    func message(_ text: String, environment: [String: String] = [:]) -> String {
        do {
            _ = try load(text, environment: environment)
            return "no error"
        } catch let error as PipelineError {
            #expect(error.exitStatus == .configuration)
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test func readsTheIssueExample() throws {
        let pipeline = try load(Self.valid)
        #expect(pipeline.name == "photos-backup")
        #expect(pipeline.statePath == "/pipelines/photos-backup.state")
        #expect(pipeline.workdir == "/pipelines/work")
        #expect(pipeline.concurrency == 2)
        #expect(pipeline.timeBudget == TimeSpan(milliseconds: 19_800_000))
        #expect(pipeline.source.maxSize == ByteSize(bytes: 20_000_000_000))
        #expect(pipeline.stages.map(\.name) == ["fetch", "verify", "upload", "cleanup"])
        #expect(pipeline.stages[0].retry.attempts == 5)
        #expect(pipeline.stages[0].timeout == TimeSpan(milliseconds: 7_200_000))
        #expect(pipeline.stages[2].parameters["destination"] == "/backup/photos")
        #expect(pipeline.secrets.contains("s3cr3t-value"))
        #expect(pipeline.source.selection.selects(path: "/2024/IMG_1.JPG"))
        #expect(!pipeline.source.selection.selects(path: "/2024/.IMG_1.jpg"))
        #expect(!pipeline.source.selection.selects(path: "/notes.txt"))
    }

    @Test func brokenYAMLNamesLineAndColumn() {
        let text = "version: 1\nsource:\n  uses: local-list\n  with: { root: /x\nstages: []\n"
        let error = message(text)
        #expect(error.hasPrefix("transfer.yml:5:"), "\(error)")
        #expect(error.contains("invalid YAML"))
    }

    @Test func unknownKeySuggestsTheNearestOne() {
        let error = message(Self.valid.replacingOccurrences(of: "concurrency: 2", with: "concurency: 2"), environment: ["PHOTO_SECRET": "x"])
        #expect(error.contains("transfer.yml:5:1: unknown key 'concurency'"), "\(error)")
        #expect(error.contains("did you mean 'concurrency'?"))
    }

    @Test func unknownStageSuggestsTheNearestOne() {
        let error = message(Self.valid.replacingOccurrences(of: "uses: local-fetch", with: "uses: local-fech"), environment: ["PHOTO_SECRET": "x"])
        #expect(error.contains("transfer.yml:16:11: unknown stage 'local-fech' (did you mean 'local-fetch'?)"), "\(error)")
    }

    @Test func unknownParameterIsNamed() {
        let error = message(Self.valid.replacingOccurrences(of: "{ algorithm: sha256 }", with: "{ algoritm: sha256 }"), environment: ["PHOTO_SECRET": "x"])
        #expect(error.contains("unknown parameter 'algoritm'"), "\(error)")
        #expect(error.contains("did you mean 'algorithm'?"))
    }

    @Test func missingVariableNamesTheVariableAndWhere() {
        let error = message(Self.valid)
        #expect(error.contains("transfer.yml:24:63:"), "\(error)")
        #expect(error.contains("environment variable PHOTO_SECRET is not set"))
    }

    @Test func badDurationAndSizeAreExplained() {
        let duration = message(Self.valid.replacingOccurrences(of: "timeout: 2h", with: "timeout: 2hours"), environment: ["PHOTO_SECRET": "x"])
        #expect(duration.contains("transfer.yml:18:14: 'timeout' must be a duration"), "\(duration)")
        let size = message(Self.valid.replacingOccurrences(of: "max_size: 20GB", with: "max_size: 20 gigs"), environment: ["PHOTO_SECRET": "x"])
        #expect(size.contains("transfer.yml:13:13: 'max_size' must be a size"), "\(size)")
    }

    @Test func missingRequiredParameterAndDuplicateStageNamesAreRefused() {
        let missing = message(Self.valid.replacingOccurrences(of: "with: { destination: \"${DEST:-/backup/photos}\", password: \"${PHOTO_SECRET}\" }", with: "with: {}"))
        #expect(missing.contains("needs 'with: { destination: … }'"), "\(missing)")
        let duplicate = message(Self.valid.replacingOccurrences(of: "name: verify", with: "name: fetch"), environment: ["PHOTO_SECRET": "x"])
        #expect(duplicate.contains("two stages are named 'fetch'"), "\(duplicate)")
    }

    @Test func unknownChecksumAlgorithmIsRefused() {
        let error = message(Self.valid.replacingOccurrences(of: "algorithm: sha256", with: "algorithm: sha265"), environment: ["PHOTO_SECRET": "x"])
        #expect(error.contains("unknown checksum algorithm 'sha265' (did you mean 'sha256'?)"), "\(error)")
    }

    @Test func missingExecutableIsNamed() {
        let text = Self.valid.replacingOccurrences(of: "uses: delete-local", with: "run: stages/nope")
        let error = message(text, environment: ["PHOTO_SECRET": "x"])
        #expect(error.contains("no executable 'stages/nope'"), "\(error)")
    }
}
