/// Node affinity's selector terms, as the scheduler and the daemonset controller both match them:
/// the terms are ORed, each term's `matchExpressions` (on labels) and `matchFields` (on the name) ANDed,
/// and a term with neither matches nothing.
public enum NodeSelectorTerms {
    public static func matches(_ terms: [JSON], labels: [String: String], name: String) -> Bool {
        terms.contains { matches(term: $0, labels: labels, name: name) }
    }

    public static func matches(term: JSON, labels: [String: String], name: String) -> Bool {
        let expressions = term["matchExpressions"]?.array ?? []
        let fields = term["matchFields"]?.array ?? []
        guard !expressions.isEmpty || !fields.isEmpty else { return false }
        return expressions.allSatisfy { matches(requirement: $0, value: labels[$0["key"]?.string ?? ""]) }
            && fields.allSatisfy { $0["key"]?.string == "metadata.name" && matches(requirement: $0, value: name) }
    }

    /// One node selector requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`).
    public static func matches(requirement: JSON, value: String?) -> Bool {
        let values = (requirement["values"]?.array ?? []).compactMap(\.string)
        switch requirement["operator"]?.string {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt": return value.flatMap { Int64($0) }.map { $0 > (values.first.flatMap { Int64($0) } ?? .max) } ?? false
        case "Lt": return value.flatMap { Int64($0) }.map { $0 < (values.first.flatMap { Int64($0) } ?? .min) } ?? false
        default: return false
        }
    }
}

/// FNV-1a, the hash Kubernetes names pod templates by; also a stable source of made-up identifiers.
public enum FNV1a {
    public static func hash32(_ bytes: [UInt8]) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return hash
    }

    public static func hash64(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        return hash
    }
}
