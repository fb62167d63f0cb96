/// Runs waits side by side and answers with the first to end; the others are cancelled (so every
/// wait raced here must end when its task is cancelled).
public enum Race {
    public static func first<Value: Sendable>(_ waits: [@Sendable () async -> Value]) async -> Value {
        await withTaskGroup(of: Value.self) { group in
            for wait in waits { group.addTask(operation: wait) }
            let winner = await group.next()!
            group.cancelAll()
            return winner
        }
    }

    public static func first<Value: Sendable>(_ one: @escaping @Sendable () async -> Value,
                                              or other: @escaping @Sendable () async -> Value) async -> Value {
        await first([one, other])
    }
}
