/// A node's taint: pods that do not tolerate it are kept off (`NoSchedule`, `PreferNoSchedule`) or evicted (`NoExecute`).
public struct Taint: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public var effect: String
    public var timeAdded: String?

    public init(key: String, value: String = "", effect: String, timeAdded: String? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    public init?(_ json: JSON) {
        guard let key = json["key"]?.string, let effect = json["effect"]?.string else { return nil }
        self.init(key: key, value: json["value"]?.string ?? "", effect: effect, timeAdded: json["timeAdded"]?.string)
    }

    public var json: JSON {
        var json: JSON = ["key": .string(key), "effect": .string(effect)]
        if !value.isEmpty { json["value"] = .string(value) }
        if let timeAdded { json["timeAdded"] = .string(timeAdded) }
        return json
    }

    /// The taints the node lifecycle controller puts on a node that is not ready or unreachable.
    public static let notReady = "node.kubernetes.io/not-ready"
    public static let unreachable = "node.kubernetes.io/unreachable"
    public static let unschedulable = "node.kubernetes.io/unschedulable"
}

/// A pod's toleration of taints.
public struct Toleration: Sendable, Equatable {
    public var key: String
    /// `Equal` (the default) or `Exists`.
    public var `operator`: String
    public var value: String
    /// Empty: every effect.
    public var effect: String
    /// For `NoExecute`: how long the pod stays once the taint is added; nil is forever.
    public var tolerationSeconds: Int64?

    public init(key: String, operator: String = "Equal", value: String = "", effect: String = "", tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    public init(_ json: JSON) {
        self.init(key: json["key"]?.string ?? "", operator: json["operator"]?.string ?? "Equal", value: json["value"]?.string ?? "",
                  effect: json["effect"]?.string ?? "", tolerationSeconds: json["tolerationSeconds"]?.int)
    }

    /// As Kubernetes' `ToleratesTaint`: an empty key with `Exists` tolerates everything.
    public func tolerates(_ taint: Taint) -> Bool {
        if !effect.isEmpty, effect != taint.effect { return false }
        if !key.isEmpty, key != taint.key { return false }
        switch `operator` {
        case "Exists": return true
        case "Equal", "": return value == taint.value
        default: return false
        }
    }
}
