import Foundation

/// A field of an object as managed fields name it: a path of object fields,
/// list items by their merge keys (`k:{"name":"web"}`), set members
/// (`v:"a"`), and `.` for an item's own existence.
enum PathElement: Hashable, Sendable {
    case field(String)
    case key(JSON)
    case value(JSON)
    case itself

    /// The FieldsV1 spelling: `f:name`, `k:{"name":"web"}`, `v:"a"`, `.`.
    var encoded: String {
        switch self {
        case .field(let name): "f:\(name)"
        case .key(let keys): "k:" + String(decoding: JSONCoding.encode(keys), as: UTF8.self)
        case .value(let value): "v:" + String(decoding: JSONCoding.encode(value), as: UTF8.self)
        case .itself: "."
        }
    }

    init?(encoded: String) {
        if encoded == "." { self = .itself; return }
        guard encoded.count > 2 else { return nil }
        let body = String(encoded.dropFirst(2))
        switch encoded.prefix(2) {
        case "f:": self = .field(body)
        case "k:": guard let keys = try? JSONCoding.decode(Array(body.utf8)) else { return nil }; self = .key(keys)
        case "v:": guard let value = try? JSONCoding.decode(Array(body.utf8)) else { return nil }; self = .value(value)
        default: return nil
        }
    }
}

typealias FieldPath = [PathElement]

/// Field sets and the structural rules Kubernetes' field manager uses.
enum FieldSets {
    /// Fields no manager owns: identity and system-set metadata.
    static let ignoredTop: Set<String> = ["apiVersion", "kind"]
    static let ignoredMetadata: Set<String> = ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                                               "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink"]

    /// Every leaf field an object sets.
    static func fields(of object: JSON, includeStatus: Bool) -> Set<FieldPath> {
        var result: Set<FieldPath> = []
        for (key, value) in object.object ?? [:] {
            if ignoredTop.contains(key) || (key == "status" && !includeStatus) { continue }
            if key == "metadata" {
                for (metaKey, metaValue) in value.object ?? [:] where !ignoredMetadata.contains(metaKey) {
                    collect(metaValue, field: metaKey, path: [.field("metadata"), .field(metaKey)], into: &result)
                }
                continue
            }
            collect(value, field: key, path: [.field(key)], into: &result)
        }
        return result
    }

    static func collect(_ value: JSON, field: String, path: FieldPath, into result: inout Set<FieldPath>) {
        switch value {
        case .object(let members) where !members.isEmpty:
            for (key, member) in members { collect(member, field: key, path: path + [.field(key)], into: &result) }
        case .array(let items):
            if let mergeKey = StrategicMergePatch.key(for: field, items: items), items.allSatisfy({ $0[mergeKey] != nil }) {
                for item in items {
                    let itemPath = path + [.key([mergeKey: item[mergeKey]!])]
                    result.insert(itemPath + [.itself])
                    for (key, member) in item.object ?? [:] { collect(member, field: key, path: itemPath + [.field(key)], into: &result) }
                }
            } else if StrategicMergePatch.mergedPrimitiveLists.contains(field) {
                for item in items { result.insert(path + [.value(item)]) }
            } else {
                result.insert(path)
            }
        default:
            result.insert(path)
        }
    }

    /// The value at a path, or nil.
    static func value(at path: FieldPath, in object: JSON) -> JSON? {
        var current: JSON? = object
        for element in path {
            switch element {
            case .field(let name): current = current?[name]
            case .key(let keys): current = current?.array?.first { item in (keys.object ?? [:]).allSatisfy { item[$0.key] == $0.value } }
            case .value(let member): current = current?.array?.contains(member) == true ? member : nil
            case .itself: break
            }
            if current == nil { return nil }
        }
        return current
    }

    /// The object without the field at `path` (an item's `.` removes the item).
    static func removing(_ path: FieldPath, from object: JSON) -> JSON {
        guard let first = path.first else { return object }
        let rest = Array(path.dropFirst())
        switch (first, object) {
        case (.field(let name), .object(var members)):
            guard let child = members[name] else { return object }
            if rest.isEmpty { members.removeValue(forKey: name) } else { members[name] = removing(rest, from: child) }
            return .object(members)
        case (.key(let keys), .array(var items)):
            guard let index = items.firstIndex(where: { item in (keys.object ?? [:]).allSatisfy { item[$0.key] == $0.value } }) else {
                return object
            }
            if rest == [.itself] || rest.isEmpty { items.remove(at: index) } else { items[index] = removing(rest, from: items[index]) }
            return .array(items)
        case (.value(let member), .array(let items)):
            return .array(items.filter { $0 != member })
        default:
            return object
        }
    }

    /// The fields whose values differ between two objects (added, changed or removed in `new`).
    static func changed(from old: JSON, to new: JSON, includeStatus: Bool) -> Set<FieldPath> {
        let newFields = fields(of: new, includeStatus: includeStatus)
        return newFields.filter { value(at: $0, in: old) != value(at: $0, in: new) || $0.last == .itself && value(at: $0, in: old) == nil }
    }

    /// FieldsV1: a tree of encoded path elements with `{}` leaves.
    static func encode(_ set: Set<FieldPath>) -> JSON {
        var root: JSON = [:]
        for path in set.sorted(by: { $0.map(\.encoded).joined(separator: "/") < $1.map(\.encoded).joined(separator: "/") }) {
            root[path: path.map(\.encoded)] = root[path: path.map(\.encoded)] ?? [:]
        }
        return root
    }

    static func decode(_ tree: JSON) -> Set<FieldPath> {
        var result: Set<FieldPath> = []
        func walk(_ node: JSON, _ path: FieldPath) {
            let children = node.object ?? [:]
            if children.isEmpty, !path.isEmpty { result.insert(path); return }
            for (key, child) in children {
                guard let element = PathElement(encoded: key) else { continue }
                walk(child, path + [element])
            }
        }
        walk(tree, [])
        return result
    }

    /// Merges an applied configuration into an object: maps field by field, lists with a merge
    /// key item by item, everything else replaced.
    static func merge(_ applied: JSON, into current: JSON, field: String = "") -> JSON {
        switch (applied, current) {
        case (.object(let appliedMembers), .object(var members)):
            for (key, value) in appliedMembers { members[key] = merge(value, into: members[key] ?? .null, field: key) }
            return .object(members)
        case (.array(let appliedItems), .array(let items)):
            guard let mergeKey = StrategicMergePatch.key(for: field, items: appliedItems + items),
                  (appliedItems + items).allSatisfy({ $0[mergeKey] != nil }) else {
                if StrategicMergePatch.mergedPrimitiveLists.contains(field) {
                    return .array(items + appliedItems.filter { !items.contains($0) })
                }
                return applied
            }
            var merged = items
            for item in appliedItems {
                if let index = merged.firstIndex(where: { $0[mergeKey] == item[mergeKey] }) {
                    merged[index] = merge(item, into: merged[index])
                } else {
                    merged.append(item)
                }
            }
            return .array(merged)
        default:
            return applied
        }
    }
}

/// One entry of `metadata.managedFields`.
struct ManagedFieldsEntry {
    var manager: String
    var operation: String
    var apiVersion: String
    var subresource: String?
    var time: String
    var fields: Set<FieldPath>

    init(manager: String, operation: String, apiVersion: String, subresource: String?, fields: Set<FieldPath>) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.subresource = subresource
        self.time = Timestamps.format(Date())
        self.fields = fields
    }

    init?(_ json: JSON) {
        guard let manager = json["manager"]?.string, let operation = json["operation"]?.string else { return nil }
        self.manager = manager
        self.operation = operation
        apiVersion = json["apiVersion"]?.string ?? ""
        subresource = json["subresource"]?.string
        time = json["time"]?.string ?? ""
        fields = FieldSets.decode(json["fieldsV1"] ?? [:])
    }

    var json: JSON {
        var entry: JSON = ["manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
                           "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": FieldSets.encode(fields)]
        if let subresource { entry["subresource"] = .string(subresource) }
        return entry
    }

    static func all(_ object: JSON) -> [ManagedFieldsEntry] {
        (object[path: ["metadata", "managedFields"]]?.array ?? []).compactMap(ManagedFieldsEntry.init)
    }

    static func store(_ entries: [ManagedFieldsEntry], in object: inout JSON) {
        let kept = entries.filter { !$0.fields.isEmpty }
        object[path: ["metadata", "managedFields"]] = kept.isEmpty ? nil : .array(kept.map(\.json))
    }
}
