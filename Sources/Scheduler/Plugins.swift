import KubeModel

/// Why a node does not fit a pod, in kube-scheduler's words (they appear verbatim in FailedScheduling).
struct FilterFailure: Sendable, Hashable {
    let reason: String
    /// Evicting lower-priority pods could make room (resources, ports); otherwise preemption cannot help.
    let preemptionMayHelp: Bool
}

/// kube-scheduler's default filter plugins, in its order, and its scoring.
enum Plugins {
    /// The reasons the node does not fit (each plugin reports its own), or none.
    static func filter(_ pod: Pod, on info: NodeInfo) -> [FilterFailure] {
        filter(PodRequirements(pod), on: info)
    }

    static func filter(_ pod: PodRequirements, on info: NodeInfo) -> [FilterFailure] {
        // NodeName
        if let wanted = pod.nodeName, wanted != info.name {
            return [FilterFailure(reason: "node(s) didn't match the requested node name", preemptionMayHelp: false)]
        }
        // NodeUnschedulable: cordoned nodes take only pods that tolerate the unschedulable taint.
        if info.unschedulable {
            let taint = Taint(key: Taint.unschedulable, effect: "NoSchedule")
            if !pod.tolerations.contains(where: { $0.tolerates(taint) }) {
                return [FilterFailure(reason: "node(s) were unschedulable", preemptionMayHelp: false)]
            }
        }
        // TaintToleration
        for taint in info.hardTaints where !pod.tolerations.contains(where: { $0.tolerates(taint) }) {
            let value = taint.value.isEmpty ? "" : ": \(taint.value)"
            return [FilterFailure(reason: "node(s) had untolerated taint {\(taint.key)\(value)}", preemptionMayHelp: false)]
        }
        // NodeAffinity: nodeSelector and required node affinity.
        if !matchesNodeSelector(pod, info: info) {
            return [FilterFailure(reason: "node(s) didn't match Pod's node affinity/selector", preemptionMayHelp: false)]
        }
        var failures: [FilterFailure] = []
        // NodePorts
        for port in pod.hostPorts where info.hostPorts.contains(where: { $0.conflicts(with: port) }) {
            failures.append(FilterFailure(reason: "node(s) didn't have free ports for the requested pod ports", preemptionMayHelp: true))
            break
        }
        // NodeResourcesFit: pods first, then each requested resource in name order.
        if info.podCount + 1 > info.allowedPods {
            failures.append(FilterFailure(reason: "Too many pods", preemptionMayHelp: true))
        }
        for name in pod.requestedNames where info.requested[name] + pod.requests[name] > info.allocatable[name] {
            failures.append(FilterFailure(reason: "Insufficient \(name)", preemptionMayHelp: true))
        }
        return failures
    }

    static func matchesNodeSelector(_ pod: PodRequirements, info: NodeInfo) -> Bool {
        for (key, value) in pod.nodeSelector where info.labels[key] != value { return false }
        guard !pod.requiredTerms.isEmpty else { return true }
        return NodeSelectorTerms.matches(pod.requiredTerms, labels: info.labels, name: info.name)
    }

    /// A feasible node's score, 0...300: least allocated (cpu and memory), preferred node affinity,
    /// and the preference to avoid `PreferNoSchedule` taints the pod does not tolerate.
    static func score(_ pod: Pod, on info: NodeInfo) -> Int64 {
        score(PodRequirements(pod), on: info)
    }

    static func score(_ pod: PodRequirements, on info: NodeInfo) -> Int64 {
        var leastAllocated: Int64 = 0
        let asked = pod.usage.nonZero
        for name in ["cpu", "memory"] {
            let capacity = info.allocatable[name]
            guard capacity > 0 else { continue }
            // Pods without requests count as kube-scheduler counts them: 100m CPU, 200 MiB.
            let used = min(capacity, info.nonZeroRequested[name] + asked[name])
            leastAllocated += (capacity - used) * 100 / capacity
        }
        leastAllocated /= 2
        var preferred: Int64 = 0
        let totalWeight = pod.preferredTerms.reduce(Int64(0)) { $0 + ($1["weight"]?.int ?? 0) }
        if totalWeight > 0 {
            let matched = pod.preferredTerms.filter { NodeSelectorTerms.matches(term: $0["preference"] ?? [:], labels: info.labels, name: info.name) }
                .reduce(Int64(0)) { $0 + ($1["weight"]?.int ?? 0) }
            preferred = matched * 100 / totalWeight
        }
        let intolerable = info.softTaints.filter { taint in !pod.tolerations.contains { $0.tolerates(taint) } }.count
        let taintScore: Int64 = intolerable == 0 ? 100 : max(0, 100 - Int64(intolerable) * 25)
        return leastAllocated + preferred + taintScore
    }

    /// How many feasible nodes to find before scoring stops, as kube-scheduler's adaptive
    /// `percentageOfNodesToScore` decides: all below 100 nodes, else 50% less 1% per 125 nodes, at least 5%.
    static func feasibleNodesToFind(_ nodes: Int) -> Int {
        guard nodes >= 100 else { return nodes }
        let percentage = max(5, 50 - nodes / 125)
        return max(100, nodes * percentage / 100)
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
