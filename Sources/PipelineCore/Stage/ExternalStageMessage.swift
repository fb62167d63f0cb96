/// The JSON the orchestrator and an external stage exchange (documented in `stages/README.md`).
///
/// Version 1: one request object on stdin; JSON lines on stdout (`progress`, `log`, `checkpoint`,
/// `item` for sources, one final `result`); free text on stderr goes to the log.
enum ExternalStageMessage {
    static let protocolVersion = 1

    /// The request for one item.
    static func runRequest(_ context: StageContext, stageName: String, parameters: [String: JSONValue],
                           sourceParameters: [String: JSONValue]) -> JSONValue {
        let partialSize = (try? FileManager.default.attributesOfItem(atPath: context.target.partial)[.size] as? NSNumber)?.int64Value
        return .object([
            "protocol": .number(Double(protocolVersion)),
            "action": "run",
            "stage": .string(stageName),
            "attempt": .number(Double(context.attempt)),
            "item": itemValue(context.item),
            "file": context.inputFile.map(JSONValue.string) ?? .null,
            "target": .string(context.target.absolute),
            "partial": .string(context.target.partial),
            "resume": .object([
                "partial_size": partialSize.map { .number(Double($0)) } ?? .null,
                "checkpoint": context.checkpoint.map(JSONValue.object) ?? .null,
            ]),
            "outputs": .object(context.earlierOutputs.mapValues(JSONValue.object)),
            "with": .object(parameters),
            // The source's `with:`, so a fetch stage can default to the place the source lists.
            "source_with": .object(sourceParameters),
            "workdir": .string(context.workdir),
        ])
    }

    static func listRequest(_ context: ListContext, parameters: [String: JSONValue]) -> JSONValue {
        .object([
            "protocol": .number(Double(protocolVersion)),
            "action": "list",
            "stage": "source",
            "attempt": 1,
            "with": .object(parameters),
            "workdir": .string(context.workdir),
        ])
    }

    static func itemValue(_ item: SourceItem) -> JSONValue {
        .object([
            "path": .string(item.path),
            "size": .number(Double(item.size)),
            "modified": item.modified.map(JSONValue.string) ?? .null,
            "extra": .object(item.extra),
        ])
    }

    /// One line a stage printed on stdout.
    enum Line {
        case progress(bytes: Int64, total: Int64?)
        case log(String)
        case checkpoint([String: JSONValue])
        case item(SourceItem)
        case result(Result)
        /// Not JSON or not a known message: logged as it is.
        case text(String)
        case malformed(String)
    }

    enum Result: Equatable {
        case ok([String: JSONValue])
        case skip(String)
        /// `category`: the stage's word for why (`FailureCategory`), nil when it gave none.
        case error(message: String, retryable: Bool, badInput: Bool, category: FailureCategory?)
    }

    static func parse(_ line: String) -> Line {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{"), let value = try? JSONValue.parse(trimmed), let object = value.objectValue else {
            return .text(line)
        }
        let type = object["type"]?.stringValue ?? (object["path"] != nil ? "item" : "")
        switch type {
        case "progress":
            // A number out of range is the stage's mistake: reported, never a trap.
            for key in ["bytes", "total"] where object[key] != nil && object[key] != .null {
                guard let value = object[key]?.int64Value, value >= 0 else {
                    return .malformed("progress \"\(key)\" must be a whole number from 0 to 2^63-1: \(trimmed)")
                }
            }
            return .progress(bytes: object["bytes"]?.int64Value ?? 0, total: object["total"]?.int64Value)
        case "log":
            return .log(object["message"]?.stringValue ?? "")
        case "checkpoint":
            return .checkpoint(object["values"]?.objectValue ?? [:])
        case "item":
            guard let path = object["path"]?.stringValue, let size = object["size"]?.int64Value, size >= 0 else {
                return .malformed("an item needs \"path\" and a \"size\" that is a whole number from 0 to 2^63-1: \(trimmed)")
            }
            // A file name cannot hold NUL, and C strings would cut the path there: never a truncated path.
            guard !path.utf8.contains(0) else {
                return .malformed("the item '\(path.replacingOccurrences(of: "\u{0}", with: "\\0"))': its path holds a NUL byte, which no file name can; fix the source's listing")
            }
            return .item(SourceItem(path: path, size: size, modified: object["modified"]?.stringValue,
                                    extra: object["extra"]?.objectValue ?? [:]))
        case "result":
            switch object["status"]?.stringValue {
            case "ok": return .result(.ok(object["outputs"]?.objectValue ?? [:]))
            case "skip": return .result(.skip(object["reason"]?.stringValue ?? "skipped by the stage"))
            case "error":
                var category: FailureCategory?
                if let given = object["category"], given != .null {
                    // An unknown word is the stage's mistake, said as such: the set is documented.
                    guard let word = given.stringValue, let known = FailureCategory(rawValue: word) else {
                        return .malformed("an error's \"category\" must be one of \(FailureCategory.allCases.map(\.rawValue).joined(separator: ", ")): \(trimmed)")
                    }
                    category = known
                }
                return .result(.error(message: object["message"]?.stringValue ?? "the stage reported an error",
                                      retryable: object["retryable"]?.boolValue ?? false,
                                      badInput: object["bad_input"]?.boolValue ?? false, category: category))
            default:
                return .malformed("a result needs \"status\": \"ok\", \"skip\" or \"error\": \(trimmed)")
            }
        default:
            return .text(line)
        }
    }
}

import Foundation
