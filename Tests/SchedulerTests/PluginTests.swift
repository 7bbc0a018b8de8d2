import Testing
import KubeModel
@testable import Scheduler

struct PluginTests {
    static func node(_ name: String, cpu: String = "2", memory: String = "4Gi", pods: Int64 = 17, labels: [String: String] = [:],
                     taints: [JSON] = [], unschedulable: Bool = false) -> NodeInfo {
        NodeInfo(node: Node(["metadata": ["name": .string(name), "labels": .strings(labels)],
                             "spec": ["taints": .array(taints), "unschedulable": .bool(unschedulable)],
                             "status": ["allocatable": ["cpu": .string(cpu), "memory": .string(memory), "pods": .int(pods)]]]))
    }

    static func pod(_ name: String = "p", cpu: String? = nil, spec extra: JSON = [:]) -> Pod {
        var container: JSON = ["name": "c", "image": "nginx"]
        if let cpu { container["resources"] = ["requests": ["cpu": .string(cpu)]] }
        var spec: JSON = extra
        spec["containers"] = [container]
        return Pod(["metadata": ["name": .string(name), "namespace": "default"], "spec": spec])
    }

    @Test(arguments: [
        // (pod, node, the reasons it does not fit)
        (pod(cpu: "500m"), node("a"), []),
        (pod(cpu: "3"), node("a"), ["Insufficient cpu"]),
        (pod(spec: ["nodeSelector": ["disk": "ssd"]]), node("a", labels: ["disk": "hdd"]), ["node(s) didn't match Pod's node affinity/selector"]),
        (pod(spec: ["nodeSelector": ["disk": "ssd"]]), node("a", labels: ["disk": "ssd"]), []),
        (pod(), node("a", taints: [["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]]), ["node(s) had untolerated taint {dedicated: gpu}"]),
        (pod(spec: ["tolerations": [["key": "dedicated", "operator": "Exists"]]]), node("a", taints: [["key": "dedicated", "value": "gpu", "effect": "NoSchedule"]]), []),
        (pod(), node("a", taints: [["key": "soft", "effect": "PreferNoSchedule"]]), []),
        (pod(), node("a", unschedulable: true), ["node(s) were unschedulable"]),
        (pod(spec: ["nodeName": "b"]), node("a"), ["node(s) didn't match the requested node name"]),
        (pod(spec: ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
            ["matchExpressions": [["key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-east-1a"]]]]]]]]]),
         node("a", labels: ["topology.kubernetes.io/zone": "us-east-1b"]), ["node(s) didn't match Pod's node affinity/selector"]),
        (pod(spec: ["affinity": ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
            ["matchExpressions": [["key": "size", "operator": "Gt", "values": ["4"]]]]]]]]]),
         node("a", labels: ["size": "8"]), []),
    ] as [(Pod, NodeInfo, [String])])
    func filtersAsKubeScheduler(pod: Pod, node: NodeInfo, reasons: [String]) {
        #expect(Plugins.filter(pod, on: node).map(\.reason) == reasons)
    }

    @Test func aFullNodeHasTooManyPodsAndTakenHostPortsClash() {
        var info = Self.node("a", pods: 2)
        info.add(Self.pod("one"))
        info.add(Self.pod("two"))
        #expect(Plugins.filter(Self.pod("three"), on: info).map(\.reason) == ["Too many pods"])
        info.remove(ObjectKey(namespace: "default", name: "two"))
        #expect(Plugins.filter(Self.pod("three"), on: info).isEmpty)
        let web: JSON = ["name": "c", "image": "nginx", "ports": [["containerPort": 80, "hostPort": 8080]]]
        var withPort = Self.node("b")
        withPort.add(Pod(["metadata": ["name": "web", "namespace": "default"], "spec": ["containers": [web]]]))
        let second = Pod(["metadata": ["name": "web2", "namespace": "default"], "spec": ["containers": [web]]])
        #expect(Plugins.filter(second, on: withPort).map(\.reason) == ["node(s) didn't have free ports for the requested pod ports"])
    }

    @Test func theLeastAllocatedNodeScoresHighest() {
        var busy = Self.node("busy")
        busy.add(Self.pod("big", cpu: "1500m"))
        let idle = Self.node("idle")
        #expect(Plugins.score(Self.pod(cpu: "100m"), on: idle) > Plugins.score(Self.pod(cpu: "100m"), on: busy))
        let preferring = Self.pod(spec: ["affinity": ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": [
            ["weight": 10, "preference": ["matchExpressions": [["key": "disk", "operator": "In", "values": ["ssd"]]]]]]]]])
        #expect(Plugins.score(preferring, on: Self.node("ssd", labels: ["disk": "ssd"])) > Plugins.score(preferring, on: Self.node("hdd")))
    }

    @Test func failureMessagesReadAsKubeSchedulers() {
        let full = [FilterFailure(reason: "Too many pods", preemptionMayHelp: true)]
        #expect(Plugins.failureMessage(nodes: 3, failures: [full, full, full])
            == "0/3 nodes are available: 3 Too many pods. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
        let selector = [FilterFailure(reason: "node(s) didn't match Pod's node affinity/selector", preemptionMayHelp: false)]
        let cpu = [FilterFailure(reason: "Insufficient cpu", preemptionMayHelp: true)]
        #expect(Plugins.failureMessage(nodes: 3, failures: [selector, selector, cpu])
            == "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")
        #expect(Plugins.failureMessage(nodes: 0, failures: []) == "no nodes available to schedule pods")
    }
}
