import Yams

/// YAML read into the JSON it stands for, as the API server converts YAML bodies: plain scalars resolved
/// (`1`, `true`, `null`, `1.5`), quoted ones kept as strings.
public enum YAMLConversion {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// nil for a document with nothing in it.
    public static func json(from text: String) throws(Failure) -> JSON? {
        do {
            return try Yams.compose(yaml: text).map(json)
        } catch {
            throw Failure(description: "\(error)")
        }
    }

    static func json(_ node: Yams.Node) -> JSON {
        switch node {
        case .scalar(let scalar):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null: return .null
            case .bool: return node.bool.map(JSON.bool) ?? .string(scalar.string)
            case .int: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case .float: return node.float.map(JSON.double) ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSON] = [:]
            for (key, value) in mapping { object[key.string ?? String(describing: key)] = json(value) }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .alias:
            return .null
        }
    }
}
