import Foundation
import Testing

extension EndToEnd {
@Suite("Scripts/install")
struct InstallTests {
    /// Scripts/install --debug into a temporary prefix: the installed binary names this checkout's commit,
    /// the bash completion completes `pipeline ru` to `run` in a real bash, the man page renders.
    @Test func installsABinaryThatNamesItsCommitWithCompletionsAndAManPage() throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let prefix = sandbox.root + "/prefix"
        let root = PipelineProcess.repositoryRoot
        let script = root + "/Scripts/install"
        let report = try Command.output(["bash", script, "--debug", prefix])
        // Again: the second install replaces the first without complaint.
        _ = try Command.output(["bash", script, "--debug", prefix])
        for file in ["bin/pipeline", "share/bash-completion/completions/pipeline", "share/zsh/site-functions/_pipeline",
                     "share/fish/vendor_completions.d/pipeline.fish", "share/man/man1/pipeline.1"] {
            #expect(FileManager.default.fileExists(atPath: prefix + "/" + file), "\(file) was not installed")
            #expect(report.contains(prefix + "/" + file), "the report does not name \(file): \(report)")
        }
        #expect(report.contains("export PATH=\"\(prefix)/bin:$PATH\""), "no PATH advice: \(report)")

        let version = try Command.output([prefix + "/bin/pipeline", "--version"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let tags = try Command.output(["git", "-C", root, "tag", "--points-at", "HEAD"]).split(separator: "\n").map(String.init)
        if tags.isEmpty {
            let commit = try Command.output(["git", "-C", root, "rev-parse", "--short=7", "HEAD"]).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(version.hasSuffix("-dev+" + commit), "--version says \(version), the checkout is at \(commit)")
        } else {
            #expect(tags.contains(version), "--version says \(version), the checkout is tagged \(tags)")
        }

        let completion = prefix + "/share/bash-completion/completions/pipeline"
        let completed = try Command.output(["bash", "-c", """
            source "$1"
            COMP_WORDS=(pipeline ru); COMP_CWORD=1; COMP_LINE="pipeline ru"; COMP_POINT=${#COMP_LINE}
            _pipeline pipeline ru pipeline
            echo "${COMPREPLY[@]}"
            """, "bash", completion])
        #expect(completed.trimmingCharacters(in: .whitespacesAndNewlines) == "run", "completing `pipeline ru` gave '\(completed)'")

        let page = try String(contentsOfFile: prefix + "/share/man/man1/pipeline.1", encoding: .utf8)
        #expect(page.contains(".Dt PIPELINE 1"), "not a section-1 page for pipeline")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/man") {
            let rendered = try Command.output(["env", "MANWIDTH=100", "man", "-l", prefix + "/share/man/man1/pipeline.1"])
            #expect(rendered.contains("PIPELINE(1)") && rendered.contains("SYNOPSIS") && rendered.contains("Exit statuses"),
                    "man -l rendered: \(rendered.prefix(400))")
        }
    }
}
}
