import KubeModel

/// `fieldValidation=Strict|Warn|Ignore`: unknown fields in a request body are
/// refused, reported as warnings, or dropped silently, as the API server does.
public enum FieldValidation: String, Sendable {
    case strict = "Strict", warn = "Warn", ignore = "Ignore"

    /// The unknown fields of an object of a built-in kind, as paths (`spec.containers[0].imagePullPolcy`).
    static func unknownFields(_ object: JSON, apiVersion: String, kind: String) -> [String] {
        let schema = ProtobufSchema.shared
        guard let message = schema.message(apiVersion: apiVersion, kind: kind) else { return [] }
        var unknown: [String] = []
        check(object, message: message, path: "", schema: schema, top: true, unknown: &unknown)
        return unknown
    }

    static func check(_ value: JSON, message: String, path: String, schema: ProtobufSchema, top: Bool, unknown: inout [String]) {
        guard OpenAPISchemas.specialSchema(message) == nil, case .object(let members) = value else { return }
        let fields = schema.jsonFields(of: message)
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            let memberPath = path.isEmpty ? key : "\(path).\(key)"
            if top && (key == "apiVersion" || key == "kind") { continue }
            guard let field = fields[key] else {
                unknown.append(memberPath)
                continue
            }
            guard schema.messages[field.type] != nil else { continue }
            switch field.cardinality {
            case .optional:
                check(member, message: field.type, path: memberPath, schema: schema, top: false, unknown: &unknown)
            case .repeated:
                for (index, item) in (member.array ?? []).enumerated() {
                    check(item, message: field.type, path: "\(memberPath)[\(index)]", schema: schema, top: false, unknown: &unknown)
                }
            case .map:
                for (mapKey, item) in member.object ?? [:] {
                    check(item, message: field.type, path: "\(memberPath)[\(mapKey)]", schema: schema, top: false, unknown: &unknown)
                }
            }
        }
    }
}
