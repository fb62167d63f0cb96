import Foundation
import PipelineCore
import Transfer
#if canImport(Glibc)
import Glibc
#endif

/// An open file descriptor with the few calls the stages need; closed on deinit.
final class FileStream {
    let path: String
    private let descriptor: Int32

    enum Mode { case read, append, truncate, create }

    convenience init(path: String, mode: Mode) throws(StageFailure) {
        try self.init(raw: RawPath(bytes: Array(path.utf8)), mode: mode)
    }

    /// Opens a path given in bytes (a name that is not UTF-8). `.create` makes a new file and
    /// fails if one is there (`O_EXCL`).
    init(raw: RawPath, mode: Mode) throws(StageFailure) {
        let path = raw.description
        let flags: Int32
        switch mode {
        case .read: flags = O_RDONLY
        case .append: flags = O_WRONLY | O_CREAT | O_APPEND
        case .truncate: flags = O_WRONLY | O_CREAT | O_TRUNC
        case .create: flags = O_WRONLY | O_CREAT | O_EXCL | O_APPEND
        }
        var descriptor = raw.withCString { open($0, flags | O_CLOEXEC, 0o644) }
        // Another item's cleanup may remove an emptied folder between this item's mkdir and its open.
        var tries = 0
        while descriptor < 0, errno == ENOENT, mode != .read, tries < 3 {
            raw.parent.makeDirectories()
            descriptor = raw.withCString { open($0, flags | O_CLOEXEC, 0o644) }
            tries += 1
        }
        guard descriptor >= 0 else { throw Self.failure("open", path) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// `fstat(2)` of the open file.
    func status() throws(StageFailure) -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.failure("stat", path) }
        return info
    }

    /// Reads up to `buffer.count` bytes at `offset`; 0 at end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(StageFailure) -> Int {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno != EINTR { throw Self.failure("read", path) }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(StageFailure) {
        var written = 0
        while written < bytes.count {
            let count = Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", path)
            }
            written += count
        }
    }

    /// An I/O error: retryable when it may pass (disk full may be freed by cleanup), else permanent.
    static func failure(_ operation: String, _ path: String) -> StageFailure {
        let code = errno
        let message = "cannot \(operation) '\(path)': \(String(cString: strerror(code)))"
        // A missing work file is not a file missing at the source: only the errno's other meanings hold.
        let category = code == ENOENT ? nil : FailureClassifier.category(errno: code)
        switch code {
        case ENOSPC, EAGAIN, EIO, ETIMEDOUT, EINTR: return StageFailure(.retryable, message, category: category)
        default: return StageFailure(.permanent, message, category: category)
        }
    }

    /// The size of the file at `path`, or nil when there is none.
    static func size(of path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }
}
