import Dispatch
import Foundation

/// Turns SIGINT and SIGTERM into a call, instead of the default of dying on the spot.
///
/// A cancelled GitHub Actions job sends SIGINT, then SIGTERM 7.5 s later, then kills: the first
/// signal starts a clean stop, so the state is recorded well before the kill.
/// `@unchecked`: the sources are only created here and cancelled once; Dispatch itself is thread-safe.
public final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    public init(_ handler: @escaping @Sendable (_ name: String) -> Void) {
        let queue = DispatchQueue(label: "pipeline.signals")
        var sources: [any DispatchSourceSignal] = []
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(name) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    public func cancel() {
        for source in sources { source.cancel() }
    }
}
