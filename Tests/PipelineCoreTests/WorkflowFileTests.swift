import Foundation
import Testing
import Yams

@Suite("The GitHub Action and the workflow users copy")
struct WorkflowFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func yaml(_ path: String) throws -> [String: Any] {
        try #require(try Yams.load(yaml: try String(contentsOfFile: Self.root + "/" + path, encoding: .utf8)) as? [String: Any])
    }

    @Test func theWorkflowChecksOutAndUsesTheActionOnce() throws {
        for path in [".github/workflows/transfer.yml", "examples/workflow.yml"] {
            let workflow = try yaml(path)
            #expect((workflow["concurrency"] as? [String: Any])?["cancel-in-progress"] as? Bool == false, "\(path): two runs must never share a state")
            let job = try #require((workflow["jobs"] as? [String: Any])?["transfer"] as? [String: Any])
            let steps = job["steps"] as? [[String: Any]] ?? []
            #expect(steps.count == 2, "\(path): checkout, then the action")
            let checkout = try #require(steps.first { ($0["uses"] as? String)?.hasPrefix("actions/checkout") == true })
            #expect((checkout["with"] as? [String: Any])?["persist-credentials"] as? Bool == false)
            let action = try #require(steps.last?["uses"] as? String)
            #expect(action == "./" || action.hasPrefix("OWNER/pipeline@"), "\(path): \(action)")
            #expect(((steps.last?["with"] as? [String: Any])?["pipeline"] as? String) == "pipelines/transfer.yml")
        }
    }

    @Test func theActionsStepsAreTheOnesTheREADMEDescribes() throws {
        let action = try yaml("action.yml")
        let steps = ((action["runs"] as? [String: Any])?["steps"] as? [[String: Any]]) ?? []
        // The run step hands the signals of a cancel to the pipeline: it is exec'd, and forwards them.
        let run = try #require(steps.first { $0["name"] as? String == "Run the pipeline" }?["run"] as? String)
        #expect(run.hasPrefix(#"exec "$GITHUB_ACTION_PATH/.github/scripts/run-pipeline""#), "\(run)")
        let script = try String(contentsOfFile: Self.root + "/.github/scripts/run-pipeline", encoding: .utf8)
        #expect(script.contains(#"run "$PIPELINE_FILE""#) && script.contains("--time-budget") && script.contains("trap"))
        // The state is saved after every run, cancelled or failed, but only from a snapshot that exists.
        let save = try #require(steps.first { ($0["uses"] as? String)?.hasPrefix("actions/upload-artifact") == true })
        #expect((save["if"] as? String)?.hasPrefix("always()") == true && (save["if"] as? String)?.contains("snapshot") == true)
        #expect((save["with"] as? [String: Any])?["retention-days"] as? Int == 90)
        // Every action pinned to a commit.
        for step in steps {
            guard let uses = step["uses"] as? String else { continue }
            let reference = uses.split(separator: "@").last.map(String.init) ?? ""
            #expect(reference.count == 40 && reference.allSatisfy(\.isHexDigit), "\(uses) is not pinned to a commit")
        }

        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let section = readme.components(separatedBy: "### In GitHub Actions").dropFirst().first ?? ""
        let described = section.split(separator: "\n").compactMap { line -> String? in
            guard line.first?.isNumber == true, let start = line.range(of: ". **"),
                  let end = line.range(of: "**", range: start.upperBound..<line.endIndex) else { return nil }
            return String(line[start.upperBound..<end.lowerBound])
        }
        let names = steps.compactMap { $0["name"] as? String }
        #expect(!names.isEmpty && names == described, "action.yml: \(names)\nREADME: \(described)")
    }
}
