import BuiltinStages
import Foundation
import PipelineCore

/// A fuzz target for the pipeline-file loader (`Scripts/fuzz`): any bytes must give a pipeline or
/// a `PipelineError`, never a crash, a hang or unbounded memory.
///
/// Built by `Scripts/fuzz` with `-sanitize=fuzzer,address -DFUZZING` (libFuzzer drives it); built
/// plainly, it replays the files named on its command line, to reproduce a finding.
enum FuzzPipelineFile {
    static let loader = PipelineFileLoader(environment: ["HOME": "/tmp"], catalog: BuiltinStageCatalog(), stageSearchPath: [], lenient: false)

    static func test(_ bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        _ = try? loader.parse(text, path: "/tmp/fuzz/pipeline.yml", displayName: "pipeline.yml")
    }
}

#if FUZZING
// Scripts/fuzz compiles this file on its own with libFuzzer, which brings `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzPipelineFile.test(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
#else
@main
enum FuzzPipelineFileReplay {
    /// Replays the files named on the command line (a finding of Scripts/fuzz).
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes(FuzzPipelineFile.test)
            print("ok \(path)")
        }
    }
}
#endif
