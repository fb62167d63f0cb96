import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore
#if canImport(Glibc)
import Glibc
#endif

/// `pipeline report`: the state's run history as one self-contained HTML page (`HistoryPage`).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the run history as one HTML page: progress over runs, bytes per run, what is left, failures by category.",
        discussion: """
            The page is self-contained (inline styles and SVG charts, no script, nothing fetched): open it in any \
            browser, attach it to a CI run, print it. It shows the remaining estimate (items and bytes left, the days \
            the daily quotas need, the day it should be done), the items done and left after each run, the bytes each \
            run moved, the failed items by category, and the latest \(HistoryPage.tableLimit) runs (start, duration, exit, \
            completed, failed, why it stopped; a run without an end is shown as killed or still running). It reads \
            the last \(ReadableNumber.count(ReportCommand.runLimit)) runs; a long history is drawn in groups of consecutive runs.

            Examples:
              pipeline report pipelines/transfer.yml --html report.html
              pipeline report --state photos.state --html - > report.html
            """
    )

    @Argument(help: "The pipeline file whose state to report on.")
    var file: String?

    @Option(help: "The state file (instead of, or overriding, the pipeline file's).")
    var state: String?

    @Option(name: .customLong("html"), help: ArgumentHelp("Write the page to this file (replaced atomically), or '-' for standard output.", valueName: "OUT"))
    var html: String

    /// The most runs one report reads from the state.
    static let runLimit = 1_000

    func run() async throws {
        try await reportingErrors {
            let output = html == "-" ? nil : try Self.checkedOutput(html)
            let pipeline = try StateLocationOptions(pipeline: file, state: state).loadPipeline()
            let session = try PipelineSession.forReading(pipeline: pipeline, stateOverride: state)
            defer { try? session.close() }
            let store = session.store
            let quotas = pipeline.map { RunSettings.quotas(of: $0, catalog: BuiltinStageCatalog()) } ?? []
            let page = HistoryPage(
                pipeline: try pipeline?.name ?? store.metadata(PipelineSession.ownerKey) ?? session.statePath,
                generatedAt: Date(),
                summary: try store.summary(maxFailures: session.maxFailures),
                plan: try TransferPlan(store: store, maxFailures: session.maxFailures, quotas: quotas),
                runs: try store.runs(limit: Self.runLimit),
                failures: try store.failedItemsByCategory())
            guard let output else {
                print(page.html, terminator: "")
                return .success
            }
            try Self.replace(output, with: Data(page.html.utf8))
            FileHandle.standardError.write(Data("report: wrote \(output)\n".utf8))
            return .success
        }
    }

    /// `path` if a page can be written there: not a folder, in a folder that exists.
    static func checkedOutput(_ path: String) throws -> String {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw PipelineError(.usage, "--html '\(path)' is a folder, not a file",
                                hint: "name the page's file, e.g. --html \((path as NSString).appendingPathComponent("report.html"))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
            throw PipelineError(.io, "cannot write '\(path)': the folder '\(parent)' does not exist", hint: "create it first, or choose another --html path")
        }
        return path
    }

    /// Writes `data` to a new file beside `path` and renames it over `path`: a reader sees the old
    /// page or the new one, never half of one; nothing is left behind on failure.
    static func replace(_ path: String, with data: Data) throws {
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((folder.isEmpty ? "." : folder) + "/.\(name).XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw failure("cannot create a file in the folder of '\(path)'") }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            _ = fchmod(descriptor, 0o644)
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            unlink(temporary)
            throw PipelineError(.io, "cannot write '\(path)': \(error.localizedDescription)", hint: "check the free space and permissions of its folder")
        }
        guard rename(temporary, path) == 0 else {
            let failed = failure("cannot replace '\(path)'")
            unlink(temporary)
            throw failed
        }
    }

    private static func failure(_ what: String) -> PipelineError {
        PipelineError(.io, "\(what): \(String(cString: strerror(errno)))", hint: "check the permissions and free space of its folder")
    }
}
