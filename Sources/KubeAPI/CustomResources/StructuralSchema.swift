import KubeModel

/// An OpenAPI v3 schema of a CustomResourceDefinition, as the API server uses
/// it: checking a custom resource's values, pruning fields the schema does not
/// declare, and filling in `default`s.
struct StructuralSchema: Sendable {
    let schema: JSON

    /// What a check found: problems with values, and unknown fields (pruned).
    struct Findings {
        var errors: [FieldError] = []
        var unknownFields: [String] = []
    }

    /// Validates, prunes and defaults `value` in place; `path` is the field path for messages.
    func apply(to value: inout JSON, path: String = "", findings: inout Findings) {
        Self.apply(schema, to: &value, path: path, findings: &findings, root: true)
    }

    static func apply(_ schema: JSON, to value: inout JSON, path: String, findings: inout Findings, root: Bool = false) {
        if schema["x-kubernetes-int-or-string"]?.bool == true {
            switch value {
            case .int, .string: break
            default: findings.errors.append(.invalid(path, value, "\(path) in body must be of type int-or-string: \"\(value.schemaType)\""))
            }
            return
        }
        let type = schema["type"]?.string
        if let type, !value.isOfSchemaType(type) {
            if value == .null && schema["nullable"]?.bool == true { return }
            findings.errors.append(.invalid(path, value, "\(path) in body must be of type \(type): \"\(value.schemaType)\""))
            return
        }
        if let allowed = schema["enum"]?.array, !allowed.contains(value) {
            findings.errors.append(.notSupported(path, value, allowed.map { FieldError.render($0).trimmingCharacters(in: ["\""]) }))
        }
        checkBounds(schema, value: value, path: path, findings: &findings)
        switch value {
        case .object(var members):
            let properties = schema["properties"]?.object ?? [:]
            let preserve = schema["x-kubernetes-preserve-unknown-fields"]?.bool == true
            let additional = schema["additionalProperties"]
            for (key, propertySchema) in properties where members[key] == nil {
                if let defaultValue = propertySchema["default"] { members[key] = defaultValue }
            }
            for key in members.keys.sorted() {
                // Type and object metadata of a custom resource are the API server's, not the schema's.
                if root && ["apiVersion", "kind", "metadata"].contains(key) { continue }
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                if let propertySchema = properties[key] {
                    apply(propertySchema, to: &members[key]!, path: childPath, findings: &findings)
                } else if let additional, additional.object != nil {
                    apply(additional, to: &members[key]!, path: childPath, findings: &findings)
                } else if !preserve && additional?.bool != true {
                    findings.unknownFields.append(childPath)
                    members.removeValue(forKey: key)
                }
            }
            for required in (schema["required"]?.array ?? []).compactMap(\.string) where members[required] == nil {
                findings.errors.append(.required(path.isEmpty ? required : "\(path).\(required)"))
            }
            value = .object(members)
        case .array(var items):
            if let itemSchema = schema["items"] {
                for index in items.indices {
                    apply(itemSchema, to: &items[index], path: "\(path)[\(index)]", findings: &findings)
                }
            }
            value = .array(items)
        default:
            break
        }
    }

    static func checkBounds(_ schema: JSON, value: JSON, path: String, findings: inout Findings) {
        let number = value.numericValue
        if let number, let minimum = schema["minimum"]?.numericValue, number < minimum {
            findings.errors.append(.invalid(path, value, "\(path) in body should be greater than or equal to \(JSON.formatNumber(minimum))"))
        }
        if let number, let maximum = schema["maximum"]?.numericValue, number > maximum {
            findings.errors.append(.invalid(path, value, "\(path) in body should be less than or equal to \(JSON.formatNumber(maximum))"))
        }
        if case .string(let text) = value {
            if let minLength = schema["minLength"]?.int, text.count < minLength {
                findings.errors.append(.invalid(path, value, "\(path) in body should be at least \(minLength) chars long"))
            }
            if let maxLength = schema["maxLength"]?.int, text.count > maxLength {
                findings.errors.append(FieldError(kind: .tooLong, field: path, value: value, detail: "may not be more than \(maxLength) bytes"))
            }
            if let pattern = schema["pattern"]?.string, let regex = try? Regex(pattern), (try? regex.firstMatch(in: text)) == nil {
                findings.errors.append(.invalid(path, value, "\(path) in body should match '\(pattern)'"))
            }
        }
        if case .array(let items) = value {
            if let minItems = schema["minItems"]?.int, items.count < minItems {
                findings.errors.append(.invalid(path, value, "\(path) in body should have at least \(minItems) items"))
            }
            if let maxItems = schema["maxItems"]?.int, items.count > maxItems {
                findings.errors.append(FieldError(kind: .tooLong, field: path, value: nil, detail: "must have at most \(maxItems) items"))
            }
        }
    }

    /// Why a schema is not structural (every node says its type, or preserves unknown fields, or is int-or-string), or nil.
    static func structuralProblem(_ schema: JSON, path: String) -> String? {
        if schema["x-kubernetes-int-or-string"]?.bool == true || schema["x-kubernetes-preserve-unknown-fields"]?.bool == true {
            return nil
        }
        guard let type = schema["type"]?.string, !type.isEmpty else {
            return "\(path).type: Required value: must not be empty for specified object fields"
        }
        for (key, property) in schema["properties"]?.object ?? [:] {
            if let problem = structuralProblem(property, path: "\(path).properties[\(key)]") { return problem }
        }
        if let items = schema["items"], let problem = structuralProblem(items, path: "\(path).items") { return problem }
        if let additional = schema["additionalProperties"], additional.object != nil,
           let problem = structuralProblem(additional, path: "\(path).additionalProperties") {
            return problem
        }
        return nil
    }
}
