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

    enum Mode { case read, append, truncate }

    init(path: String, mode: Mode) throws(StageFailure) {
        let flags: Int32
        switch mode {
        case .read: flags = O_RDONLY
        case .append: flags = O_WRONLY | O_CREAT | O_APPEND
        case .truncate: flags = O_WRONLY | O_CREAT | O_TRUNC
        }
        let descriptor = mode == .read ? open(path, flags | O_CLOEXEC) : PartialFile.openForWriting(path, flags: flags)
        guard descriptor >= 0 else { throw Self.failure("open", path) }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

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
        switch code {
        case ENOSPC, EAGAIN, EIO, ETIMEDOUT, EINTR: return .retryable(message)
        default: return .permanent(message)
        }
    }

    /// The size of the file at `path`, or nil when there is none.
    static func size(of path: String) -> Int64? {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : nil
    }
}
