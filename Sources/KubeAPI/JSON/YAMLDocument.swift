import Yams
import KubeModel

/// YAML request bodies (`application/yaml`, and `application/apply-patch+yaml` from clients other than
/// kubectl), read into the JSON they stand for, as the API server converts them.
enum YAMLDocument {
    static func json(from text: String) throws(APIError) -> JSON {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw .badRequest("error converting YAML to JSON: \(error)")
        }
        guard let node else { throw .badRequest("the body of the request is empty") }
        return json(node)
    }

    static func json(_ node: Yams.Node) -> JSON {
        switch node {
        case .scalar(let scalar):
            // Quoted scalars keep the `str` tag; plain ones are resolved (`1`, `true`, `null`, `1.5`).
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
