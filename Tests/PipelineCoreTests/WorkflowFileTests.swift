import Foundation
import Testing
import Yams

@Suite("The GitHub Actions workflow users copy")
struct WorkflowFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func isValidYAMLAndItsStepsAreTheOnesTheREADMEDescribes() throws {
        let text = try String(contentsOfFile: Self.root + "/.github/workflows/transfer.yml", encoding: .utf8)
        let workflow = try #require(try Yams.load(yaml: text) as? [String: Any])
        let job = try #require((workflow["jobs"] as? [String: Any])?["transfer"] as? [String: Any])
        let steps = (job["steps"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect((workflow["concurrency"] as? [String: Any])?["cancel-in-progress"] as? Bool == false, "two runs must never share a state")
        let allSteps = job["steps"] as? [[String: Any]] ?? []
        // The run step hands the signals of a cancel to the pipeline: it is exec'd, and forwards them.
        let run = try #require(allSteps.first { $0["name"] as? String == "Run the pipeline" }?["run"] as? String)
        #expect(run.hasPrefix("exec .github/scripts/run-pipeline"), "\(run)")
        let script = try String(contentsOfFile: Self.root + "/.github/scripts/run-pipeline", encoding: .utf8)
        #expect(text.contains("PIPELINE_FILE: pipelines/transfer.yml"))
        #expect(script.contains(#"run "$PIPELINE_FILE""#) && script.contains("--time-budget") && script.contains("trap"))
        // The state is saved after every run, cancelled or failed, but only from a snapshot that exists.
        let save = try #require(allSteps.first { ($0["uses"] as? String)?.hasPrefix("actions/upload-artifact") == true })
        #expect((save["if"] as? String)?.hasPrefix("always()") == true && (save["if"] as? String)?.contains("snapshot") == true)
        #expect((save["with"] as? [String: Any])?["retention-days"] as? Int == 90)
        // Every action pinned to a commit, and the checkout keeps no credentials.
        for step in allSteps {
            guard let uses = step["uses"] as? String else { continue }
            let reference = uses.split(separator: "@").last.map(String.init) ?? ""
            #expect(reference.count == 40 && reference.allSatisfy(\.isHexDigit), "\(uses) is not pinned to a commit")
        }
        let checkout = try #require(allSteps.first { ($0["uses"] as? String)?.hasPrefix("actions/checkout") == true })
        #expect((checkout["with"] as? [String: Any])?["persist-credentials"] as? Bool == false)

        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let section = readme.components(separatedBy: "### In GitHub Actions").dropFirst().first ?? ""
        let described = section.split(separator: "\n").compactMap { line -> String? in
            guard line.first?.isNumber == true, let start = line.range(of: ". **"),
                  let end = line.range(of: "**", range: start.upperBound..<line.endIndex) else { return nil }
            return String(line[start.upperBound..<end.lowerBound])
        }
        #expect(!steps.isEmpty && steps == described, "workflow: \(steps)\nREADME: \(described)")
    }
}
