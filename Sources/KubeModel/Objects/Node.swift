/// A typed view of a Node: what the scheduler and the node lifecycle controller read.
public struct Node: TypedView {
    public var object: JSON

    public init(_ object: JSON) {
        self.object = object
    }

    public var unschedulable: Bool { object[path: ["spec", "unschedulable"]]?.bool ?? false }
    public var taints: [Taint] { (object[path: ["spec", "taints"]]?.array ?? []).compactMap(Taint.init) }
    public var allocatable: ResourceList { ResourceList(object[path: ["status", "allocatable"]]) }
    public var capacity: ResourceList { ResourceList(object[path: ["status", "capacity"]]) }
    public var isReady: Bool { object.condition("Ready")?.status == "True" }
    public var providerID: String? { object[path: ["spec", "providerID"]]?.string }

    /// The node's address of a type (`InternalIP`, `Hostname`, `InternalDNS`).
    public func address(_ type: String) -> String? {
        (object[path: ["status", "addresses"]]?.array ?? []).first { $0["type"]?.string == type }?["address"]?.string
    }
}
