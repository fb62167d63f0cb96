import ArgumentParser
import BuiltinStages
import Foundation
import PipelineCore

/// How the commands that work on a state find it: a pipeline file, or `--state` directly.
struct StateLocationOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .long], help: "The pipeline file whose state to use.")
    var pipeline: String?

    @Option(help: "The state file (overrides the pipeline file's 'state:').")
    var state: String?

    /// The pipeline, read leniently: a command that only touches the state needs no secrets.
    func loadPipeline(path: String? = nil) throws -> PipelineFile? {
        guard let file = path ?? pipeline else { return nil }
        return try PipelineLoading.loader(lenient: true).load(path: file)
    }
}

enum PipelineLoading {
    static func loader(lenient: Bool = false) -> PipelineFileLoader {
        let environment = ProcessInfo.processInfo.environment
        let searchPath = (environment["PIPELINE_STAGES_PATH"] ?? "").split(separator: ":").map(String.init)
        return PipelineFileLoader(environment: environment, catalog: BuiltinStageCatalog(), stageSearchPath: searchPath, lenient: lenient)
    }
}
