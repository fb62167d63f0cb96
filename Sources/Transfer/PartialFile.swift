import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Opens files that items write into folders shared with other items.
public enum PartialFile {
    /// `open(2)` for writing, making the parent folder (again) if it is missing: another item's
    /// cleanup may remove an emptied folder between this item's mkdir and its open.
    /// Returns the descriptor, or -1 with `errno` set.
    public static func openForWriting(_ path: String, flags: Int32) -> Int32 {
        var descriptor = open(path, flags | O_CLOEXEC, 0o644)
        var tries = 0
        while descriptor < 0, errno == ENOENT, tries < 3 {
            try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                     withIntermediateDirectories: true)
            descriptor = open(path, flags | O_CLOEXEC, 0o644)
            tries += 1
        }
        return descriptor
    }
}
