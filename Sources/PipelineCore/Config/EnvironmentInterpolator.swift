/// Replaces `${VAR}`, `${VAR:-default}` and `${VAR:?message}` in pipeline-file values.
///
/// `$$` stands for a literal `$`. A variable that is unset (or empty, for `:-` and `:?`, as in the
/// shell) and has no default is an error naming the variable, so a missing secret is found before
/// any work starts rather than as a login failure an hour later.
public struct EnvironmentInterpolator: Sendable {
    public struct Substitution: Sendable, Hashable {
        public var variable: String
        public var value: String
    }

    public enum Failure: Error, Equatable {
        case missing(variable: String, message: String?)
        case malformed(String)
    }

    public var environment: [String: String]

    public init(environment: [String: String]) { self.environment = environment }

    /// The interpolated text and the substitutions made (so callers can treat secrets specially).
    public func interpolate(_ text: String) throws(Failure) -> (text: String, substitutions: [Substitution]) {
        guard text.contains("$") else { return (text, []) }
        var result = ""
        var substitutions: [Substitution] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            guard character == "$", next < text.endIndex else {
                result.append(character)
                index = next
                continue
            }
            if text[next] == "$" {
                result.append("$")
                index = text.index(after: next)
                continue
            }
            guard text[next] == "{" else {
                result.append(character)
                index = next
                continue
            }
            guard let close = text[next...].firstIndex(of: "}") else {
                throw .malformed("unterminated '${' in \"\(text)\"")
            }
            let expression = String(text[text.index(after: next)..<close])
            let value = try resolve(expression)
            substitutions.append(Substitution(variable: value.variable, value: value.text))
            result += value.text
            index = text.index(after: close)
        }
        return (result, substitutions)
    }

    private func resolve(_ expression: String) throws(Failure) -> (variable: String, text: String) {
        let name = String(expression.prefix(while: { $0.isLetter || $0.isNumber || $0 == "_" }))
        guard !name.isEmpty, name.first?.isNumber == false else {
            throw .malformed("'${\(expression)}' is not a variable reference")
        }
        let modifier = expression.dropFirst(name.count)
        let value = environment[name]
        if modifier.isEmpty {
            guard let value else { throw .missing(variable: name, message: nil) }
            return (name, value)
        }
        if modifier.hasPrefix(":-") {
            if let value, !value.isEmpty { return (name, value) }
            return (name, String(modifier.dropFirst(2)))
        }
        if modifier.hasPrefix(":?") {
            if let value, !value.isEmpty { return (name, value) }
            let message = String(modifier.dropFirst(2))
            throw .missing(variable: name, message: message.isEmpty ? nil : message)
        }
        throw .malformed("'${\(expression)}': expected ${\(name)}, ${\(name):-default} or ${\(name):?message}")
    }
}
