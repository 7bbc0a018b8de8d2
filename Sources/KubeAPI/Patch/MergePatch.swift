import KubeModel

/// JSON merge patch (RFC 7386): objects merge, `null` removes, everything else replaces.
enum MergePatch {
    static func apply(_ patch: JSON, to target: JSON) -> JSON {
        guard case .object(let patchFields) = patch else { return patch }
        var result = target.object ?? [:]
        for (key, value) in patchFields {
            if value == .null {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}

/// JSON patch (RFC 6902): `add`, `remove`, `replace`, `move`, `copy`, `test` at JSON pointers.
enum JSONPatch {
    static func apply(_ patch: JSON, to target: JSON) throws(APIError) -> JSON {
        guard let operations = patch.array else { throw .badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch") }
        var document = target
        for operation in operations {
            guard let op = operation["op"]?.string, let path = operation["path"]?.string else {
                throw .badRequest("the server rejected our request due to an error in our request: missing op or path")
            }
            let pointer = try Self.pointer(path)
            switch op {
            case "add":
                document = try insert(operation["value"] ?? .null, at: pointer, in: document, replacing: false)
            case "replace":
                _ = try value(at: pointer, in: document)
                document = try insert(operation["value"] ?? .null, at: pointer, in: document, replacing: true)
            case "remove":
                document = try remove(at: pointer, in: document).document
            case "move", "copy":
                guard let from = operation["from"]?.string else { throw .badRequest("\(op) operation needs \"from\"") }
                let fromPointer = try Self.pointer(from)
                let moved = try value(at: fromPointer, in: document)
                if op == "move" { document = try remove(at: fromPointer, in: document).document }
                document = try insert(moved, at: pointer, in: document, replacing: false)
            case "test":
                guard try value(at: pointer, in: document) == (operation["value"] ?? .null) else {
                    throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: testing value \(path) failed: test failed")
                }
            default:
                throw .badRequest("Unexpected kind: \(op)")
            }
        }
        return document
    }

    static func pointer(_ path: String) throws(APIError) -> [String] {
        guard path.isEmpty || path.hasPrefix("/") else { throw .badRequest("JSON pointer must be empty or start with a \"/\": \(path)") }
        return path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    static func missing(_ pointer: [String]) -> APIError {
        APIError(code: 422, reason: "Invalid",
                 message: "the server rejected our request due to an error in our request: doc is missing path: \"/\(pointer.joined(separator: "/"))\": missing value")
    }

    static func value(at pointer: [String], in document: JSON) throws(APIError) -> JSON {
        var current = document
        for token in pointer {
            switch current {
            case .object(let fields):
                guard let next = fields[token] else { throw missing(pointer) }
                current = next
            case .array(let items):
                guard let index = Int(token), items.indices.contains(index) else { throw missing(pointer) }
                current = items[index]
            default:
                throw missing(pointer)
            }
        }
        return current
    }

    static func insert(_ value: JSON, at pointer: [String], in document: JSON, replacing: Bool) throws(APIError) -> JSON {
        guard let token = pointer.first else { return value }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var fields):
            if rest.isEmpty {
                fields[token] = value
            } else {
                guard let child = fields[token] else { throw missing(pointer) }
                fields[token] = try insert(value, at: rest, in: child, replacing: replacing)
            }
            return .object(fields)
        case .array(var items):
            if rest.isEmpty {
                if token == "-" && !replacing { items.append(value); return .array(items) }
                guard let index = Int(token), index >= 0, index <= items.count - (replacing ? 1 : 0) else { throw missing(pointer) }
                if replacing { items[index] = value } else { items.insert(value, at: index) }
                return .array(items)
            }
            guard let index = Int(token), items.indices.contains(index) else { throw missing(pointer) }
            items[index] = try insert(value, at: rest, in: items[index], replacing: replacing)
            return .array(items)
        default:
            throw missing(pointer)
        }
    }

    static func remove(at pointer: [String], in document: JSON) throws(APIError) -> (document: JSON, removed: JSON) {
        guard let token = pointer.first else { throw missing(pointer) }
        let rest = Array(pointer.dropFirst())
        switch document {
        case .object(var fields):
            guard let child = fields[token] else { throw missing(pointer) }
            if rest.isEmpty {
                fields.removeValue(forKey: token)
                return (.object(fields), child)
            }
            let (updated, removed) = try remove(at: rest, in: child)
            fields[token] = updated
            return (.object(fields), removed)
        case .array(var items):
            guard let index = Int(token), items.indices.contains(index) else { throw missing(pointer) }
            if rest.isEmpty {
                let removed = items.remove(at: index)
                return (.array(items), removed)
            }
            let (updated, removed) = try remove(at: rest, in: items[index])
            items[index] = updated
            return (.array(items), removed)
        default:
            throw missing(pointer)
        }
    }
}
