/// The rows a statement returned, read whole (the caller bounds them with LIMIT), and how many rows
/// it changed.
struct PostgresResult: Sendable {
    /// Column names, in the order of each row's values.
    let columns: [String]
    let rows: [[PostgresValue]]
    /// Rows inserted, updated, deleted or selected, as the server counted them (0 for other commands).
    let affectedRows: Int

    /// The value of `column` in row `row`, or nil when there is no such row or column.
    func value(_ row: Int, _ column: String) -> PostgresValue? {
        guard rows.indices.contains(row), let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}
