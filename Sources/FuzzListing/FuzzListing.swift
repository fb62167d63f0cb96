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
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzListing(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    FuzzListing.test(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
#else
@main
enum ReplayListings {
    static func main() throws {
        for path in CommandLine.arguments.dropFirst() {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            data.withUnsafeBytes(FuzzListing.test)
            print("ok \(path)")
        }
    }
}
#endif
