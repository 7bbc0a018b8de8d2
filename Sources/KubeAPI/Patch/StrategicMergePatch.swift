import KubeModel

/// Strategic merge patch, as kubectl sends it for built-in kinds: like a
/// merge patch, but lists whose items have a merge key (containers by name,
/// container ports by containerPort…) merge item by item, and the `$patch`,
/// `$retainKeys`, `$setElementOrder` and `$deleteFromPrimitiveList` directives
/// are honoured.
enum StrategicMergePatch {
    /// The merge key of each list field that merges rather than replaces, as the built-in types declare them.
    static let mergeKeys: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
        "env": "name", "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
        "imagePullSecrets": "name", "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid",
        "topologySpreadConstraints": "topologyKey", "resourceClaims": "name", "schedulingGates": "name",
        "readinessGates": "conditionType", "taints": "key", "addresses": "type",
    ]

    /// Primitive lists that merge as sets.
    static let mergedPrimitiveLists: Set<String> = ["finalizers"]

    static func apply(_ patch: JSON, to target: JSON) throws(APIError) -> JSON {
        guard case .object(var patchFields) = patch else { return patch }
        if let directive = patchFields["$patch"]?.string {
            patchFields.removeValue(forKey: "$patch")
            switch directive {
            case "replace": return .object(patchFields)
            case "delete": return .null
            default: throw .badRequest("unknown patch type: \(directive)")
            }
        }
        var result = target.object ?? [:]
        let retainKeys = patchFields.removeValue(forKey: "$retainKeys")?.array?.compactMap(\.string)
        for (key, value) in patchFields {
            if key.hasPrefix("$setElementOrder/") { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removals = Set(value.array ?? [])
                result[field] = .array((result[field]?.array ?? []).filter { !removals.contains($0) })
                continue
            }
            if value == .null {
                result.removeValue(forKey: key)
                continue
            }
            switch (value, result[key]) {
            case (.object, let existing):
                let merged = try apply(value, to: existing ?? .object([:]))
                if merged == .null { result.removeValue(forKey: key) } else { result[key] = merged }
            case (.array(let items), .some(.array(let existing))):
                result[key] = try mergeList(field: key, patch: items, into: existing)
            case (.array(let items), _):
                result[key] = .array(items.filter { $0["$patch"]?.string != "delete" })
            default:
                result[key] = value
            }
        }
        if let retainKeys {
            let keep = Set(retainKeys)
            result = result.filter { keep.contains($0.key) }
        }
        return .object(result)
    }

    static func mergeList(field: String, patch: [JSON], into existing: [JSON]) throws(APIError) -> JSON {
        if mergedPrimitiveLists.contains(field) {
            var merged = existing
            for item in patch where !merged.contains(item) { merged.append(item) }
            return .array(merged)
        }
        if patch.count == 1, patch[0]["$patch"]?.string == "replace" { return .array([]) }
        guard let mergeKey = key(for: field, items: patch + existing) else { return .array(patch) }
        var merged = existing
        for item in patch {
            let id = item[mergeKey]
            if item["$patch"]?.string == "delete" {
                merged.removeAll { $0[mergeKey] == id }
                continue
            }
            if let index = merged.firstIndex(where: { $0[mergeKey] == id && id != nil }) {
                merged[index] = try apply(item, to: merged[index])
            } else {
                merged.append(try apply(item, to: .object([:])))
            }
        }
        return .array(merged)
    }

    /// Ports merge by `containerPort` in containers and by `port` in services.
    static func key(for field: String, items: [JSON]) -> String? {
        if field == "ports" {
            return items.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        }
        return mergeKeys[field]
    }
}
