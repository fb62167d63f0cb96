import CArchive

/// Reads an archive entry by entry with libarchive, decompressing every byte (so the format's own
/// checks — CRCs, lengths — run) and handing out only sizes: nothing is written to disk.
///
/// The `struct archive` is owned here and freed on deinit; no pointer escapes.
final class ArchiveReader {
    struct Failure: Error {
        /// libarchive's own message.
        var message: String
    }

    private let handle: OpaquePointer

    init(path: String) throws(Failure) {
        guard let handle = archive_read_new() else { throw Failure(message: "libarchive could not start a reader") }
        self.handle = handle
        archive_read_support_filter_all(handle)
        // The seekable zip reader checks the central directory, so a zip cut short is caught
        // even when every entry before the cut is whole.
        archive_read_support_format_zip_seekable(handle)
        archive_read_support_format_all(handle)
        guard archive_read_open_filename(handle, path, 1 << 20) == ARCHIVE_OK else {
            // Not freed here: `handle` is set, so deinit runs and frees it (freeing it twice crashed
            // the run on a file libarchive cannot open at all).
            throw Failure(message: lastError)
        }
    }

    deinit { archive_read_free(handle) }

    /// The next entry's name, or nil at the end of the archive.
    func nextEntry() throws(Failure) -> String? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else { throw Failure(message: lastError) }
        if let name = archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry) { return String(cString: name) }
        return ""
    }

    /// Decompresses the current entry to its end, reporting each block's size; `block` returning
    /// false stops early (a limit was crossed).
    func readEntryData(_ block: (Int) -> Bool) throws(Failure) {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(handle, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else { throw Failure(message: lastError) }
            if !block(size) { return }
        }
    }

    /// The archive format as libarchive names it (`ZIP 2.0 (deflation)`, `GNU tar format`, …).
    var formatName: String { archive_format_name(handle).map { String(cString: $0) } ?? "unknown" }

    private var lastError: String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
