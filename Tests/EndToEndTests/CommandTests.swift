import Foundation
import Testing

extension EndToEnd {
@Suite("Commands and secrets")
struct CommandTests {
    @Test func secretsNeverReachTheLogTheStateOrErrorMessages() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 2, sizes: 1000...1000)
        let secret = "pa55-\(UUID().uuidString)"
        let leaky = sandbox.root + "/stages/leaky"
        try FileManager.default.createDirectory(atPath: sandbox.root + "/stages", withIntermediateDirectories: true)
        // A careless stage: prints the password it was given, and fails with it in the message.
        try """
            #!/bin/sh
            request=$(cat)
            password=$(printf '%s' "$request" | python3 -c 'import json,sys; print(json.load(sys.stdin)["with"]["password"])')
            echo "connecting with password $password" >&2
            echo "stdout also says $password"
            printf '{"type":"result","status":"error","message":"login refused for %s","retryable":false}\\n' "$password"
            exit 1
            """.write(toFile: leaky, atomically: true, encoding: .utf8)
        chmod(leaky, 0o755)
        try sandbox.writeFetchPipeline(then: """
              - name: login
                run: leaky
                with: { user: alice, password: "${FTP_PASSWORD}" }
            """)
        for format in ["plain", "json"] {
            let result = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", format], in: sandbox.root, environment: ["FTP_PASSWORD": secret])
            #expect(result.status == 1)
            #expect(result.output.contains("connecting with password [redacted]"), "\(result.output)")
            #expect(!result.output.contains(secret) && !result.error.contains(secret), "the secret reached the \(format) log")
        }
        let status = try PipelineProcess.run(["status", "pipeline.yml", "--json"], in: sandbox.root)
        #expect(status.output.contains("login refused for [redacted]"))
        #expect(!status.output.contains(secret))
        let state = try Data(contentsOf: URL(fileURLWithPath: sandbox.statePath))
        #expect(state.range(of: Data(secret.utf8)) == nil, "the secret is in the state file")
        let export = try PipelineProcess.run(["state", "export", "-f", "pipeline.yml"], in: sandbox.root)
        #expect(!export.output.contains(secret))
    }

    @Test func forgetMakesACompletedItemRunAgain() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let paths = try sandbox.makeFiles(count: 3, sizes: 1000...2000)
        try sandbox.writeLocalPipeline()
        #expect(try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root).status == 0)
        try FileManager.default.removeItem(atPath: sandbox.destination + paths[1])
        let quiet = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(!quiet.output.contains("stage_started"), "a completed item was processed again")
        let forget = try PipelineProcess.run(["forget", "-f", "pipeline.yml", paths[1]], in: sandbox.root)
        #expect(forget.status == 0, "\(forget.error)")
        let again = try PipelineProcess.run(["run", "pipeline.yml", "--log-format", "json"], in: sandbox.root)
        #expect(again.status == 0)
        #expect(FileManager.default.fileExists(atPath: sandbox.destination + paths[1]))
        let unknown = try PipelineProcess.run(["forget", "-f", "pipeline.yml", "/no/such/item"], in: sandbox.root)
        #expect(unknown.status == 65)
    }

    @Test func aDryRunSaysWhatWouldHappenAndChangesNothing() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 4, sizes: 1000...2000)
        try sandbox.writeLocalPipeline()
        let fresh = try PipelineProcess.run(["run", "pipeline.yml", "--dry-run"], in: sandbox.root)
        #expect(fresh.status == 0)
        #expect(fresh.output.contains("dry run: 4 new; nothing was changed"), "\(fresh.output)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.statePath))
        #expect(!FileManager.default.fileExists(atPath: sandbox.workdir))
        #expect(try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: sandbox.statePath))
        let done = try PipelineProcess.run(["run", "pipeline.yml", "--dry-run"], in: sandbox.root)
        #expect(done.output.contains("dry run: 4 done"), "\(done.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.statePath)) == before)
    }

    @Test func stagesListsBuiltInsAndExecutables() throws {
        let result = try PipelineProcess.run(["stages"], in: PipelineProcess.repositoryRoot)
        #expect(result.status == 0)
        for name in ["local-list", "local-fetch", "checksum", "local-upload", "delete-local", "size-check", "flaky",
                     "curl-list", "curl-fetch", "google-photos", "archive-inspect", "media-probe"] {
            #expect(result.output.contains(name), "\(name) missing from `pipeline stages`")
        }
    }

    @Test func underGitHubActionsTheLogHasGroupsAnnotationsAndMasksAndTheSummaryIsWritten() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try sandbox.makeFiles(count: 2, sizes: 10...20)
        try sandbox.writeFetchPipeline(then: """
              - name: upload
                run: flaky
                with: { counter: calls, fail_times: -1, exit_status: 1, token: "${UPLOAD_TOKEN}" }
            """)
        let secret = "tok-0123456789-secret"
        let summary = sandbox.root + "/step-summary.md"
        let run = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root,
                                          environment: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "UPLOAD_TOKEN": secret])
        #expect(run.status == 1, "\(run.error)")
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(lines.first == "::add-mask::\(secret)", "the mask must come before anything else: \(lines.prefix(3))")
        #expect(lines.filter { $0.contains(secret) }.count == 1, "the secret was printed outside its mask command")
        #expect(lines.contains("::group::State before the run") && lines.contains("::endgroup::"))
        let errors = lines.filter { $0.hasPrefix("::error title=upload failed%3A /album") }
        #expect(errors.count == 2, "\(lines)")
        let markdown = (try? String(contentsOfFile: summary, encoding: .utf8)) ?? ""
        #expect(markdown.contains("## pipeline run: e2e"), "\(markdown)")
        #expect(markdown.contains("| failed | 2 |") && markdown.contains("### Failed in this run"), "\(markdown)")
        #expect(!markdown.contains(secret))

        // Outside Actions: none of it.
        let plain = try PipelineProcess.run(["run", "pipeline.yml"], in: sandbox.root, environment: ["UPLOAD_TOKEN": secret])
        #expect(!plain.output.contains("::"), "\(plain.output)")
    }

    @Test func everyShippedPipelineValidates() throws {
        let folder = PipelineProcess.repositoryRoot + "/pipelines"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yml") }.sorted()
        #expect(files.count >= 3)
        let environment = ["PHOTO_LIBRARY": "/srv/photos", "BACKUP_DIR": "/mnt/backup", "FTP_URL": "ftp://127.0.0.1:2121/", "FTP_PASSWORD": "x",
                           "DEMO_FTP_URL": "ftp://127.0.0.1:2121/", "DEMO_FTP_PASSWORD": "x",
                           "DEMO_PHOTOS_URL": "http://127.0.0.1:8080", "DEMO_PHOTOS_SECRET": "x", "DEMO_PHOTOS_REFRESH_TOKEN": "x",
                           "GOOGLE_CLIENT_ID": "x", "GOOGLE_CLIENT_SECRET": "x", "GOOGLE_REFRESH_TOKEN": "x"]
        for file in files {
            let result = try PipelineProcess.run(["validate", "pipelines/" + file], in: PipelineProcess.repositoryRoot, environment: environment)
            #expect(result.status == 0, "\(file): \(result.error)")
        }
    }
}
}
