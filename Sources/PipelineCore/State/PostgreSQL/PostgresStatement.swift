/// One SQL statement with its parameters (`$1`, `$2`, …), to be sent with others in one flight
/// (`PostgresConnection.pipeline`).
struct PostgresStatement {
    var sql: String
    var parameters: [PostgresValue]

    init(_ sql: String, _ parameters: [PostgresValue] = []) {
        self.sql = sql
        self.parameters = parameters
    }
}
