import KubeModel

/// What the scheduler knows of one node: the node itself and what the pods on it (bound, or assumed
/// bound by the scheduler before the API shows it) take of it.
struct NodeInfo: Sendable {
    var node: Node
    var requested = ResourceList()
    var podCount = 0
    var hostPorts: [HostPort] = []
    /// The pods counted here, with what each took, so a pod leaving gives back exactly that.
    var pods: [ObjectKey: PodUsage] = [:]

    struct PodUsage: Sendable {
        let requests: ResourceList
        let hostPorts: [HostPort]
        let labels: [String: String]
        let namespace: String
    }

    init(node: Node) {
        self.node = node
    }

    mutating func add(_ pod: Pod) {
        guard pods[pod.key] == nil else { return }
        let usage = PodUsage(requests: pod.requests, hostPorts: pod.hostPorts, labels: pod.labels, namespace: pod.namespace)
        pods[pod.key] = usage
        requested += usage.requests
        podCount += 1
        hostPorts += usage.hostPorts
    }

    mutating func remove(_ key: ObjectKey) {
        guard let usage = pods.removeValue(forKey: key) else { return }
        requested = requested - usage.requests
        podCount -= 1
        for port in usage.hostPorts {
            if let index = hostPorts.firstIndex(of: port) { hostPorts.remove(at: index) }
        }
    }
}
