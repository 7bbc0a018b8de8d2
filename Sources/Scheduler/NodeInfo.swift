import KubeModel

/// What the scheduler knows of one node, parsed once when the node changes: its labels, taints and
/// allocatable resources, and what the pods on it (bound, or assumed bound by the scheduler before
/// the API shows it) take of it.
struct NodeInfo: Sendable {
    private(set) var node: Node
    private(set) var name: String
    private(set) var labels: [String: String]
    /// Taints that keep pods off (NoSchedule, NoExecute), and those that only discourage (PreferNoSchedule).
    private(set) var hardTaints: [Taint]
    private(set) var softTaints: [Taint]
    private(set) var unschedulable: Bool
    private(set) var allocatable: ResourceList
    private(set) var allowedPods: Int
    var requested = ResourceList()
    /// What scoring counts: requests, with kube-scheduler's defaults (100m CPU, 200 MiB) for pods that set none.
    var nonZeroRequested = ResourceList()
    var podCount = 0
    var hostPorts: [HostPort] = []
    /// The pods counted here, with what each took, so a pod leaving gives back exactly that.
    var pods: [ObjectKey: PodUsage] = [:]

    struct PodUsage: Sendable {
        let requests: ResourceList
        let hostPorts: [HostPort]

        var nonZero: ResourceList {
            var counted = ResourceList()
            counted["cpu"] = requests["cpu"] > 0 ? requests["cpu"] : PodUsage.defaultCPU
            counted["memory"] = requests["memory"] > 0 ? requests["memory"] : PodUsage.defaultMemory
            return counted
        }

        static let defaultCPU: Int64 = 100
        static let defaultMemory: Int64 = 200 * 1_048_576 * 1000
    }

    init(node: Node) {
        self.node = node
        name = node.name
        labels = node.labels
        hardTaints = []
        softTaints = []
        unschedulable = false
        allocatable = ResourceList()
        allowedPods = 0
        update(node)
    }

    mutating func update(_ node: Node) {
        self.node = node
        name = node.name
        labels = node.labels
        let taints = node.taints
        hardTaints = taints.filter { $0.effect == "NoSchedule" || $0.effect == "NoExecute" }
        softTaints = taints.filter { $0.effect == "PreferNoSchedule" }
        unschedulable = node.unschedulable
        allocatable = node.allocatable
        allowedPods = Int(allocatable["pods"] / 1000)
    }

    mutating func add(_ key: ObjectKey, _ usage: PodUsage) {
        guard pods[key] == nil else { return }
        pods[key] = usage
        requested += usage.requests
        nonZeroRequested += usage.nonZero
        podCount += 1
        hostPorts += usage.hostPorts
    }

    mutating func add(_ pod: Pod) {
        add(pod.key, PodUsage(requests: pod.requests, hostPorts: pod.hostPorts))
    }

    mutating func remove(_ key: ObjectKey) {
        guard let usage = pods.removeValue(forKey: key) else { return }
        requested = requested - usage.requests
        nonZeroRequested = nonZeroRequested - usage.nonZero
        podCount -= 1
        for port in usage.hostPorts {
            if let index = hostPorts.firstIndex(of: port) { hostPorts.remove(at: index) }
        }
    }
}

/// What one pod asks of a node, read from it once per scheduling attempt.
struct PodRequirements: Sendable {
    let pod: Pod
    let requests: ResourceList
    /// The requested resources, in name order, with what the scheduler counts for scoring.
    let requestedNames: [String]
    let tolerations: [Toleration]
    let nodeSelector: [String: String]
    let requiredTerms: [JSON]
    let preferredTerms: [JSON]
    let hostPorts: [HostPort]
    let nodeName: String?

    init(_ pod: Pod) {
        self.pod = pod
        let requests = pod.requests
        self.requests = requests
        requestedNames = requests.names.filter { requests[$0] > 0 }.sorted()
        tolerations = pod.tolerations
        nodeSelector = pod.nodeSelector
        let affinity = pod.object[path: ["spec", "affinity", "nodeAffinity"]]
        requiredTerms = affinity?[path: ["requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.array ?? []
        preferredTerms = affinity?["preferredDuringSchedulingIgnoredDuringExecution"]?.array ?? []
        hostPorts = pod.hostPorts
        nodeName = pod.object[path: ["spec", "nodeName"]]?.string.flatMap { $0.isEmpty ? nil : $0 }
    }

    var usage: NodeInfo.PodUsage { NodeInfo.PodUsage(requests: requests, hostPorts: hostPorts) }
}
