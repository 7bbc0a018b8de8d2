import KubeModel

/// Why a node does not fit a pod, in kube-scheduler's words (they appear verbatim in FailedScheduling).
struct FilterFailure: Sendable, Hashable {
    let reason: String
    /// Evicting lower-priority pods could make room (resources, ports); otherwise preemption cannot help.
    let preemptionMayHelp: Bool
}

/// kube-scheduler's default filter plugins, in its order, and its scoring.
enum Plugins {
    /// The first reasons the node does not fit (each plugin reports its own), or none.
    static func filter(_ pod: Pod, on info: NodeInfo) -> [FilterFailure] {
        let node = info.node
        // NodeName
        if let wanted = pod.object[path: ["spec", "nodeName"]]?.string, !wanted.isEmpty, wanted != node.name {
            return [FilterFailure(reason: "node(s) didn't match the requested node name", preemptionMayHelp: false)]
        }
        // NodeUnschedulable: cordoned nodes take only pods that tolerate the unschedulable taint.
        if node.unschedulable {
            let taint = Taint(key: Taint.unschedulable, effect: "NoSchedule")
            if !pod.tolerations.contains(where: { $0.tolerates(taint) }) {
                return [FilterFailure(reason: "node(s) were unschedulable", preemptionMayHelp: false)]
            }
        }
        // TaintToleration
        for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !pod.tolerations.contains(where: { $0.tolerates(taint) }) {
                let value = taint.value.isEmpty ? "" : ": \(taint.value)"
                return [FilterFailure(reason: "node(s) had untolerated taint {\(taint.key)\(value)}", preemptionMayHelp: false)]
            }
        }
        // NodeAffinity: nodeSelector and required node affinity.
        if !matchesNodeSelector(pod, node: node) {
            return [FilterFailure(reason: "node(s) didn't match Pod's node affinity/selector", preemptionMayHelp: false)]
        }
        var failures: [FilterFailure] = []
        // NodePorts
        for port in pod.hostPorts where info.hostPorts.contains(where: { $0.conflicts(with: port) }) {
            failures.append(FilterFailure(reason: "node(s) didn't have free ports for the requested pod ports", preemptionMayHelp: true))
            break
        }
        // NodeResourcesFit: pods first, then each requested resource in name order.
        let allocatable = node.allocatable
        if info.podCount + 1 > Int(allocatable["pods"] / 1000) {
            failures.append(FilterFailure(reason: "Too many pods", preemptionMayHelp: true))
        }
        let requests = pod.requests
        for name in requests.names.sorted() where requests[name] > 0 {
            if info.requested[name] + requests[name] > allocatable[name] {
                failures.append(FilterFailure(reason: "Insufficient \(name)", preemptionMayHelp: true))
            }
        }
        return failures
    }

    static func matchesNodeSelector(_ pod: Pod, node: Node) -> Bool {
        let labels = node.labels
        for (key, value) in pod.nodeSelector where labels[key] != value { return false }
        guard let terms = pod.object[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution",
                                            "nodeSelectorTerms"]]?.array, !terms.isEmpty else { return true }
        // The terms are ORed; the expressions of one term are ANDed.
        return terms.contains { term in matches(term, node: node) }
    }

    static func matches(_ term: JSON, node: Node) -> Bool {
        let expressions = term["matchExpressions"]?.array ?? []
        let fields = term["matchFields"]?.array ?? []
        guard !expressions.isEmpty || !fields.isEmpty else { return false }
        let labels = node.labels
        return expressions.allSatisfy { matches($0, value: labels[$0["key"]?.string ?? ""]) }
            && fields.allSatisfy { $0["key"]?.string == "metadata.name" && matches($0, value: node.name) }
    }

    /// One node selector requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`).
    static func matches(_ requirement: JSON, value: String?) -> Bool {
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

    /// A feasible node's score, 0...300: least allocated (cpu and memory), preferred node affinity,
    /// and the preference to avoid `PreferNoSchedule` taints the pod does not tolerate.
    static func score(_ pod: Pod, on info: NodeInfo) -> Int64 {
        let allocatable = info.node.allocatable
        let requests = pod.requests
        var leastAllocated: Int64 = 0
        for name in ["cpu", "memory"] {
            let capacity = allocatable[name]
            guard capacity > 0 else { continue }
            // Pods without requests count as kube-scheduler counts them: 100m CPU, 200 MiB.
            let asked = requests[name] > 0 ? requests[name] : (name == "cpu" ? 100 : 200 * 1_048_576 * 1000)
            let used = min(capacity, info.requested[name] + asked)
            leastAllocated += (capacity - used) * 100 / capacity
        }
        leastAllocated /= 2
        var preferred: Int64 = 0
        let preferences = pod.object[path: ["spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"]]?.array ?? []
        let totalWeight = preferences.reduce(Int64(0)) { $0 + ($1["weight"]?.int ?? 0) }
        if totalWeight > 0 {
            let matched = preferences.filter { matches($0["preference"] ?? [:], node: info.node) }.reduce(Int64(0)) { $0 + ($1["weight"]?.int ?? 0) }
            preferred = matched * 100 / totalWeight
        }
        let intolerable = info.node.taints.filter { taint in
            taint.effect == "PreferNoSchedule" && !pod.tolerations.contains { $0.tolerates(taint) }
        }.count
        let taintScore: Int64 = intolerable == 0 ? 100 : max(0, 100 - Int64(intolerable) * 25)
        return leastAllocated + preferred + taintScore
    }

    /// kube-scheduler's FitError text: `0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are
    /// available: 3 No preemption victims found for incoming pod.`
    static func failureMessage(nodes: Int, failures: [[FilterFailure]]) -> String {
        var histogram: [String: Int] = [:]
        var preemption: [String: Int] = [:]
        for reasons in failures {
            for reason in reasons { histogram[reason.reason, default: 0] += 1 }
            let helps = reasons.contains { $0.preemptionMayHelp }
            preemption[helps ? "No preemption victims found for incoming pod" : "Preemption is not helpful for scheduling", default: 0] += 1
        }
        func text(_ counts: [String: Int]) -> String {
            counts.map { "\($0.value) \($0.key)" }.sorted().joined(separator: ", ")
        }
        guard nodes > 0 else { return "no nodes available to schedule pods" }
        return "0/\(nodes) nodes are available: \(text(histogram)). preemption: 0/\(nodes) nodes are available: \(text(preemption))."
    }
}
