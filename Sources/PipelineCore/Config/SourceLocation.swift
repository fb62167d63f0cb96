/// Where something stands in a pipeline file, for error messages of the form `file:line:column`.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    /// A configuration error pointing at this place.
    public func error(_ message: String, hint: String? = nil) -> PipelineError {
        PipelineError(.configuration, "\(self): \(message)", hint: hint)
    }
}
