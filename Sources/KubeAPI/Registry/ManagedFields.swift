import Foundation
import KubeModel

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
        decode(tree(of: object, against: .none, includeStatus: includeStatus))
    }

    /// What a walk compares each field with: nothing (every field counts), or the old object's
    /// value at the same path, which may be absent.
    enum Baseline {
        case none
        case object(JSON?)

        subscript(member: String) -> Baseline {
            if case .object(let old) = self { return .object(old?[member]) }
            return .none
        }

        /// True if the old value equals `value`, so nothing under it changed.
        func isUnchanged(_ value: JSON) -> Bool {
            if case .object(let old) = self { return old == value }
            return false
        }

        var items: [JSON]? {
            if case .object(let old) = self { return old?.array ?? [] }
            return nil
        }
    }

    /// The FieldsV1 tree of the leaf fields `object` sets with values other than the baseline's
    /// (added or changed, not removed): all of them against `.none`.
    static func tree(of object: JSON, against baseline: Baseline, includeStatus: Bool) -> JSON {
        var root: [String: JSON] = [:]
        for (key, value) in object.object ?? [:] {
            if ignoredTop.contains(key) || (key == "status" && !includeStatus) { continue }
            if key == "metadata" {
                var metadata: [String: JSON] = [:]
                for (metaKey, metaValue) in value.object ?? [:] where !ignoredMetadata.contains(metaKey) {
                    metadata[PathElement.field(metaKey).encoded] = subtree(metaValue, baseline["metadata"][metaKey], field: metaKey)
                }
                if !metadata.isEmpty { root[PathElement.field(key).encoded] = .object(metadata) }
                continue
            }
            root[PathElement.field(key).encoded] = subtree(value, baseline[key], field: key)
        }
        return .object(root)
    }

    /// The tree of the leaves under `value` that differ from the baseline (`{}` when `value` is a leaf);
    /// nil if none do. Subtrees equal to the baseline are skipped whole.
    private static func subtree(_ value: JSON, _ baseline: Baseline, field: String) -> JSON? {
        if baseline.isUnchanged(value) { return nil }
        var children: [String: JSON] = [:]
        switch value {
        case .object(let members) where !members.isEmpty:
            for (key, member) in members { children[PathElement.field(key).encoded] = subtree(member, baseline[key], field: key) }
        case .array(let items):
            if let mergeKey = StrategicMergePatch.key(for: field, items: items), items.allSatisfy({ $0[mergeKey] != nil }) {
                for item in items {
                    let itemBaseline = baseline.items.map { old in Baseline.object(old.first { $0[mergeKey] == item[mergeKey] }) } ?? .none
                    if itemBaseline.isUnchanged(item) { continue }
                    var itemChildren: [String: JSON] = [PathElement.itself.encoded: [:]]
                    for (key, member) in item.object ?? [:] {
                        itemChildren[PathElement.field(key).encoded] = subtree(member, itemBaseline[key], field: key)
                    }
                    children[PathElement.key([mergeKey: item[mergeKey]!]).encoded] = .object(itemChildren)
                }
            } else if StrategicMergePatch.mergedPrimitiveLists.contains(field) {
                let oldItems = baseline.items ?? []
                for item in items where !oldItems.contains(item) { children[PathElement.value(item).encoded] = [:] }
            } else {
                return [:]
            }
        default:
            return [:]
        }
        return children.isEmpty ? nil : .object(children)
    }

    static func isLeaf(_ node: JSON) -> Bool {
        if case .object(let members) = node { return members.isEmpty }
        return false
    }

    /// Removes from a FieldsV1 tree, in place, the leaves of `removed` and the members they leave empty.
    static func subtract(_ removed: JSON, from tree: inout JSON) {
        guard case .object(let removing) = removed, case .object(var members) = tree else { return }
        tree = .null  // members is now the only reference: edited in place.
        for (key, child) in removing {
            guard var existing = members.removeValue(forKey: key) else { continue }
            if isLeaf(child) || isLeaf(existing) {
                // Both leaves: the field goes. Otherwise one goes deeper than the other: not the same field.
                if isLeaf(child) != isLeaf(existing) { members[key] = existing }
                continue
            }
            subtract(child, from: &existing)
            if !isLeaf(existing) { members[key] = existing }
        }
        tree = .object(members)
    }

    /// Adds the leaves of `added` to a FieldsV1 tree, in place.
    static func union(_ added: JSON, into tree: inout JSON) {
        guard case .object(let adding) = added, case .object(var members) = tree else { return }
        tree = .null
        for (key, child) in adding {
            if var existing = members.removeValue(forKey: key) {
                union(child, into: &existing)
                members[key] = existing
            } else {
                members[key] = child
            }
        }
        tree = .object(members)
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

    /// FieldsV1: a tree of encoded path elements with `{}` leaves.
    static func encode(_ paths: some Sequence<FieldPath>) -> JSON {
        tree(paths.map { $0[...] })
    }

    /// The tree of the paths' remainders, grouped by their first element; built bottom-up so
    /// each node is made once.
    private static func tree(_ paths: [ArraySlice<PathElement>]) -> JSON {
        var children: [PathElement: [ArraySlice<PathElement>]] = [:]
        for path in paths {
            guard let first = path.first else { continue }
            children[first, default: []].append(path.dropFirst())
        }
        var members: [String: JSON] = [:]
        members.reserveCapacity(children.count)
        for (element, rest) in children { members[element.encoded] = tree(rest) }
        return .object(members)
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
        Self.json(manager: manager, operation: operation, apiVersion: apiVersion, subresource: subresource, time: time,
                  fieldsV1: FieldSets.encode(fields))
    }

    static func json(manager: String, operation: String, apiVersion: String, subresource: String?, time: String, fieldsV1: JSON) -> JSON {
        var entry: JSON = ["manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion),
                           "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": fieldsV1]
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
