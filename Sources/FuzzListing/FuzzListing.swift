import Foundation
import Transfer

/// A fuzz target for the FTP listing parsers (LIST and MLSD lines, `Scripts/fuzz`): any line must
/// give an entry or nothing, never a crash.
///
/// Built by `Scripts/fuzz` with `-sanitize=fuzzer,address -DFUZZING`; built plainly, it replays the
/// files named on its command line.
enum FuzzListing {
    static func test(_ bytes: UnsafeRawBufferPointer) {
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            _ = DirectoryListingParser.listLine(String(line))
            _ = DirectoryListingParser.mlsdLine(String(line))
        }
    }
}

#if FUZZING
// Scripts/fuzz compiles this file on its own with libFuzzer, which brings `main`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzListing.test(UnsafeRawBufferPointer(start: data, count: count))
    return 0
}
#else
@main
enum FuzzListingReplay {
    /// Replays the files named on the command line (a finding of Scripts/fuzz).
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes(FuzzListing.test)
            print("ok \(path)")
        }
    }
}
#endif
