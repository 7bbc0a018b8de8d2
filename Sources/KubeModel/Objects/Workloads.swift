/// A typed view of the workload kinds that own pods through a template and a selector:
/// Deployments, ReplicaSets, ReplicationControllers, StatefulSets, DaemonSets, Jobs.
public struct Workload: TypedView {
    public var object: JSON

    public init(_ object: JSON) {
        self.object = object
    }

    public var generation: Int64 { object.generation }

    /// `spec.replicas`, 1 when absent as the API defaults it.
    public var replicas: Int64 { object[path: ["spec", "replicas"]]?.int ?? 1 }
    public var template: JSON { object[path: ["spec", "template"]] ?? [:] }

    /// The pods it selects: a LabelSelector object, or a ReplicationController's plain map.
    public var selector: LabelSelector? {
        guard let selector = object[path: ["spec", "selector"]] else { return nil }
        if selector["matchLabels"] == nil, selector["matchExpressions"] == nil {
            let map = selector.stringMap
            return map.isEmpty ? nil : LabelSelector(requirements: map.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) })
        }
        guard let parsed = try? LabelSelector(object: selector), !parsed.isEmpty else { return nil }
        return parsed
    }

    public func status(_ field: String) -> Int64 { object[path: ["status", field]]?.int ?? 0 }
    public var observedGeneration: Int64 { status("observedGeneration") }
}
