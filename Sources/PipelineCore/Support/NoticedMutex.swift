import Synchronization

/// A value behind a lock whose every change is announced (`changes`): those who wait for it to
/// change await the notice instead of reading it again and again.
final class NoticedMutex<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    let changes = ChangeNotice()

    init(_ value: Value) { self.value = Mutex(value) }

    /// Changes the value (or may), then announces it.
    func withLock<Result>(_ body: (inout sending Value) throws -> sending Result) rethrows -> sending Result {
        defer { changes.changed() }
        return try value.withLock(body)
    }

    /// Reads the value without announcing anything.
    func read<Result: Sendable>(_ body: (Value) throws -> Result) rethrows -> Result {
        try value.withLock { try body($0) }
    }
}
