import Foundation

/// A second thread that feeds some of a `DigestSet`'s digests, chunk by chunk, while the calling
/// thread feeds the others: four digests of one file take about as long as the slowest two.
///
/// The handoff is strict: `begin` gives the worker a chunk, `finish` waits until it is done with
/// it, and the caller does not reuse the chunk's memory in between. That is the only way the
/// chunk's pointer crosses threads.
final class DigestWorker: @unchecked Sendable {
    private let digests: [any Digest]
    private let work = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// The chunk being hashed, set by `begin` before `work` is signalled; nil tells the thread to end.
    private var chunk: UnsafeRawBufferPointer?
    private var running = true

    init(digests: [any Digest]) {
        self.digests = digests
        let thread = Thread { [self] in loop() }
        thread.name = "digest-worker"
        thread.start()
    }

    /// Hands `bytes` to the worker; call `finish` before touching that memory again.
    func begin(_ bytes: UnsafeRawBufferPointer) {
        chunk = bytes
        work.signal()
    }

    /// Waits until the worker has fed the chunk to its digests.
    func finish() { done.wait() }

    /// Ends the thread once it is idle; the digests stay readable. The thread holds the worker
    /// until then, so its owner must call this (`DigestSet` does, at the end and in deinit).
    func stop() {
        guard running else { return }
        running = false
        chunk = nil
        work.signal()
        done.wait()
    }

    private func loop() {
        while true {
            work.wait()
            guard let bytes = chunk else {
                done.signal()
                return
            }
            for digest in digests { digest.update(bytes) }
            done.signal()
        }
    }
}
