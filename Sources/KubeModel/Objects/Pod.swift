/// A typed view of a Pod: the fields the scheduler, controllers and node agents read.
public struct Pod: TypedView {
    public var object: JSON

    public init(_ object: JSON) {
        self.object = object
    }

    public var spec: JSON { object["spec"] ?? [:] }

    public var nodeName: String? {
        guard let name = object[path: ["spec", "nodeName"]]?.string, !name.isEmpty else { return nil }
        return name
    }

    public var schedulerName: String { object[path: ["spec", "schedulerName"]]?.string ?? "default-scheduler" }
    public var phase: String { object[path: ["status", "phase"]]?.string ?? "Pending" }
    /// Succeeded or Failed: its containers will not run again.
    public var isTerminal: Bool { phase == "Succeeded" || phase == "Failed" }
    public var isBeingDeleted: Bool { object.deletionTimestamp != nil }
    public var isReady: Bool { object.condition("Ready")?.status == "True" }
    public var priority: Int64 { object[path: ["spec", "priority"]]?.int ?? 0 }
    public var hostNetwork: Bool { object[path: ["spec", "hostNetwork"]]?.bool ?? false }
    public var podIP: String? { object[path: ["status", "podIP"]]?.string }

    public var nodeSelector: [String: String] { object[path: ["spec", "nodeSelector"]]?.stringMap ?? [:] }
    public var tolerations: [Toleration] { (object[path: ["spec", "tolerations"]]?.array ?? []).map(Toleration.init) }

    public var containers: [JSON] { object[path: ["spec", "containers"]]?.array ?? [] }
    public var initContainers: [JSON] { object[path: ["spec", "initContainers"]]?.array ?? [] }

    /// What the pod asks of a node, as the scheduler counts it: the sum of its containers' requests, or the
    /// largest init container's where that is more (sidecars, `restartPolicy: Always`, run beside the rest),
    /// plus the pod's overhead.
    public var requests: ResourceList {
        var running = ResourceList()
        for container in containers { running += ResourceList(container[path: ["resources", "requests"]]) }
        var sidecars = ResourceList()
        var initPeak = ResourceList()
        for container in initContainers {
            let requests = ResourceList(container[path: ["resources", "requests"]])
            if container["restartPolicy"]?.string == "Always" {
                sidecars += requests
                initPeak = initPeak.maximum(sidecars)
            } else {
                initPeak = initPeak.maximum(sidecars + requests)
            }
        }
        return (running + sidecars).maximum(initPeak) + ResourceList(object[path: ["spec", "overhead"]])
    }

    /// The host ports its containers ask for, as (protocol, hostIP, port).
    public var hostPorts: [HostPort] {
        (containers + initContainers).flatMap { container in
            (container["ports"]?.array ?? []).compactMap { port -> HostPort? in
                guard let number = port["hostPort"]?.int, number > 0 else { return nil }
                return HostPort(protocol: port["protocol"]?.string ?? "TCP", hostIP: port["hostIP"]?.string ?? "0.0.0.0", port: number)
            }
        }
    }
}

public struct HostPort: Sendable, Hashable {
    public let `protocol`: String
    public let hostIP: String
    public let port: Int64

    public init(protocol: String, hostIP: String, port: Int64) {
        self.protocol = `protocol`
        self.hostIP = hostIP
        self.port = port
    }

    /// Two uses of a port clash when protocol and port match and either listens on every address.
    public func conflicts(with other: HostPort) -> Bool {
        self.protocol == other.protocol && port == other.port
            && (hostIP == other.hostIP || hostIP == "0.0.0.0" || other.hostIP == "0.0.0.0")
    }
}
