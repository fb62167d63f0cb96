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
        let run = try #require((job["steps"] as? [[String: Any]])?.first { $0["name"] as? String == "Run the pipeline" }?["run"] as? String)
        #expect(run.contains("pipeline run pipelines/transfer.yml") && run.contains("--time-budget"))
        let save = try #require((job["steps"] as? [[String: Any]])?.first { ($0["uses"] as? String)?.hasPrefix("actions/upload-artifact") == true })
        #expect(save["if"] as? String == "always()")

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
