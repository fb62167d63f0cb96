import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Turns SIGINT and SIGTERM into a call, instead of the default of dying on the spot.
///
/// A cancelled GitHub Actions job sends SIGINT, then SIGTERM 7.5 s later, then kills: the first
/// signal starts a clean stop, so the state is recorded well before the kill.
///
/// The signals are caught with a handler rather than ignored: an ignored signal stays ignored
/// across `exec`, so external stages would inherit SIGTERM as ignored and the teardown ladder
/// could only end them with SIGKILL. A caught one is reset to its default in the child.
public final class SignalTrap: Sendable {
    public init(_ handler: @escaping @Sendable (_ name: String) -> Void) {
        SignalPipe.install()
        SignalPipe.handler.withLock { $0 = handler }
    }

    /// Signals after this take their default course again (the handler is dropped).
    public func cancel() {
        SignalPipe.handler.withLock { $0 = nil }
    }
}

/// The self-pipe between the signal handler (which may only do async-signal-safe things, such as
/// `write`) and the watcher thread.
enum SignalPipe {
    nonisolated(unsafe) static var writeEnd: Int32 = -1
    static let handler = Mutex<(@Sendable (String) -> Void)?>(nil)

    private static let installed: Void = {
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        writeEnd = ends[1]
        let readEnd = ends[0]
        Thread {
            // Threads inherit blocked signals; this one must be able to take them.
            var handled = sigset_t()
            sigemptyset(&handled)
            sigaddset(&handled, SIGINT)
            sigaddset(&handled, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &handled, nil)
            while true {
                var number: Int32 = 0
                let count = read(readEnd, &number, MemoryLayout<Int32>.size)
                if count < 0, errno == EINTR { continue }
                guard count == MemoryLayout<Int32>.size else { return }
                let name = number == SIGINT ? "SIGINT" : "SIGTERM"
                guard let handler = handler.withLock({ $0 }) else {
                    // No run is listening: behave as if uncaught.
                    signal(number, SIG_DFL)
                    raise(number)
                    continue
                }
                handler(name)
            }
        }.start()
        for number in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var value = number
                _ = write(SignalPipe.writeEnd, &value, MemoryLayout<Int32>.size)
            }
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
    }()

    static func install() { _ = installed }
}

/// Writing to a child that closed its stdin must return EPIPE, not kill us; a no-op handler
/// (rather than SIG_IGN) keeps the child's own SIGPIPE at its default.
enum BrokenPipeGuard {
    private static let installed: Void = {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigaction(SIGPIPE, &action, nil)
    }()

    static func install() { _ = installed }
}
