import Foundation
import KubeModel

/// An add-on's `configurationValues`: JSON or YAML, checked against the add-on's schema before anything is
/// recorded, and reported the way EKS reports it (the JSON Schema validator's `$.path: problem` messages).
public enum ConfigurationValues {
    /// The values as JSON; `{}` for nil, an empty text or an empty document.
    public static func parse(_ text: String?, schema: JSON) throws(EKSError) -> JSON {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [:] }
        let value: JSON
        if let json = try? JSONCoding.decode(Array(text.utf8)) {
            value = json
        } else if let yaml = try? YAMLConversion.json(from: text) {
            value = yaml ?? [:]
        } else {
            throw unsupported("Configuration values must be valid JSON or YAML.")
        }
        let problems = SchemaCheck(root: schema).problems(value, schema: schema, at: "$")
        guard problems.isEmpty else {
            throw unsupported("Json schema validation failed with error: [\(problems.joined(separator: ", "))]")
        }
        return value
    }

    static func unsupported(_ detail: String) -> EKSError {
        EKSError.invalidParameter("ConfigurationValue provided in request is not supported: \(detail)")
    }
}

/// The draft-07 keywords the add-on schemas use: `type`, `properties`, `additionalProperties`, `required`,
/// `enum`, `pattern`, `minimum`, `maximum`, `items` and `$ref` into `definitions`.
struct SchemaCheck {
    let root: JSON

    func problems(_ value: JSON, schema: JSON, at path: String) -> [String] {
        var schema = schema
        if let reference = schema["$ref"]?.string {
            guard reference.hasPrefix("#/") else { return [] }
            schema = root[path: reference.dropFirst(2).split(separator: "/").map(String.init)] ?? [:]
        }
        if let types = schema["type"].map({ $0.array?.compactMap(\.string) ?? [$0.string ?? ""] }),
           !types.contains(where: { value.isOfSchemaType($0) }) {
            return ["\(path): \(value.schemaType) found, \(types.joined(separator: ", ")) expected"]
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) {
            let listed = allowed.map { $0.string ?? String(decoding: JSONCoding.encode($0), as: UTF8.self) }
            return ["\(path): does not have a value in the enumeration [\(listed.joined(separator: ", "))]"]
        }
        var found: [String] = []
        switch value {
        case .string(let text):
            if let pattern = schema["pattern"]?.string, text.range(of: pattern, options: .regularExpression) == nil {
                found.append("\(path): does not match the regex pattern \(pattern)")
            }
        case .int, .double:
            let number = value.numericValue ?? 0
            if let minimum = schema["minimum"]?.numericValue, number < minimum {
                found.append("\(path): must have a minimum value of \(JSON.formatNumber(minimum))")
            }
            if let maximum = schema["maximum"]?.numericValue, number > maximum {
                found.append("\(path): must have a maximum value of \(JSON.formatNumber(maximum))")
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { found += problems(item, schema: itemSchema, at: "\(path)[\(index)]") }
            }
        case .object(let members):
            let properties = schema["properties"]?.object ?? [:]
            for required in schema["required"]?.array?.compactMap(\.string) ?? [] where members[required] == nil {
                found.append("\(path).\(required): is missing but it is required")
            }
            for (key, member) in members.sorted(by: { $0.key < $1.key }) {
                if let property = properties[key] {
                    found += problems(member, schema: property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append("\(path).\(key): is not defined in the schema and the schema does not allow additional properties")
                    } else if additional.object != nil {
                        found += problems(member, schema: additional, at: "\(path).\(key)")
                    }
                }
            }
        default:
            break
        }
        return found
    }
}
