import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// One pod per eligible node for each DaemonSet, as kube-controller-manager's daemonset controller does:
/// a node is eligible when it matches the template's node selector and affinity and its pods tolerate
/// the node's taints. Pods are created with a required node affinity to their node (the default
/// scheduler binds them) and the tolerations every daemon pod gets; a changed template rolls out
/// `maxUnavailable` nodes at a time. Pods are labelled with their template's `controller-revision-hash`.
public final class DaemonSetController: Controller {
    let client: KubeClient
    private let informers = Mutex<(daemonSets: Informer, nodes: Informer, pods: Informer)?>(nil)
    let expectations = Expectations()

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "daemonset" }
    public var workers: Int { 2 }

    static let hashLabel = "controller-revision-hash"

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let daemonSets = try await shared.informer("daemonsets", group: "apps")
        let nodes = try await shared.informer("nodes")
        let pods = try await shared.informer("pods")
        informers.withLock { $0 = (daemonSets, nodes, pods) }
        daemonSets.addHandler { event in queue.add(event.key) }
        // Any node change may change where daemons belong.
        nodes.addHandler { _ in for key in daemonSets.objects.keys() { queue.add(key) } }
        pods.addHandler { [expectations] event in
            guard case .change(let change) = event, let owner = (change.kind == .deleted ? change.previous ?? change.object : change.object).controllerReference,
                  owner.kind == "DaemonSet" else { return }
            let key = ObjectKey(namespace: change.key.namespace, name: owner.name)
            switch change.kind {
            case .added: expectations.observeCreate(key)
            case .deleted: expectations.observeDelete(key)
            case .updated: break
            }
            queue.add(key)
        }
    }

    /// The tolerations the daemonset controller adds to every daemon pod.
    static let defaultTolerations: [JSON] = [
        ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"],
    ]

    /// Whether a daemon pod of `template` belongs on `node`.
    static func shouldRun(_ template: JSON, on node: Node) -> Bool {
        // An EKS Fargate node runs its one pod and no daemons, whatever they tolerate (its kubelet refuses them).
        if node.labels["eks.amazonaws.com/compute-type"] == "fargate" { return false }
        var spec = template["spec"] ?? [:]
        spec["tolerations"] = .array((spec["tolerations"]?.array ?? []) + defaultTolerations)
        let pod = Pod(["metadata": template["metadata"] ?? [:], "spec": spec])
        for taint in node.taints where taint.effect == "NoSchedule" || taint.effect == "NoExecute" {
            if !pod.tolerations.contains(where: { $0.tolerates(taint) }) { return false }
        }
        for (key, value) in pod.nodeSelector where node.labels[key] != value { return false }
        let terms = spec[path: ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.array ?? []
        return terms.isEmpty || NodeSelectorTerms.matches(terms, labels: node.labels, name: node.name)
    }

    static func templateHash(_ template: JSON) -> String {
        String(String(FNV1a.hash32(JSONCoding.encode(template)), radix: 16).suffix(10))
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (daemonSets, nodeInformer, podInformer) = informers.withLock({ $0 }), let daemonSet = daemonSets.get(key),
              let namespace = key.namespace, let uid = daemonSet.uid, daemonSet.deletionTimestamp == nil else { return .done }
        let template = daemonSet[path: ["spec", "template"]] ?? [:]
        let hash = Self.templateHash(template)
        let nodes = nodeInformer.list().map(Node.init)
        let owned = podInformer.objects.dependents(of: uid)
            .filter { $0.namespace == namespace && $0.controllerReference?.uid == uid && $0.deletionTimestamp == nil }
        var byNode: [String: [JSON]] = [:]
        for pod in owned { byNode[Self.targetNode(pod) ?? "", default: []].append(pod) }
        let eligible = nodes.filter { Self.shouldRun(template, on: $0) }
        let pods = try client.resource("pods")
        if expectations.satisfied(key) {
            var creates: [String] = []
            var deletes: [JSON] = []
            for node in eligible {
                let here = (byNode[node.name] ?? []).filter { !Pod($0).isTerminal }
                if here.isEmpty { creates.append(node.name) } else { deletes += here.dropFirst() }
            }
            let eligibleNames = Set(eligible.map(\.name))
            for (node, here) in byNode where !eligibleNames.contains(node) { deletes += here }
            // Rolling update: pods of an older template go, maxUnavailable nodes at a time, once the rest are available.
            let maxUnavailable = max(1, Int(DeploymentController.resolve(daemonSet[path: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]] ?? 1,
                                                                            of: Int64(eligible.count), roundUp: true)))
            if (daemonSet[path: ["spec", "updateStrategy", "type"]]?.string ?? "RollingUpdate") == "RollingUpdate" {
                let unavailable = eligible.filter { node in !(byNode[node.name] ?? []).contains { Pod($0).isReady } }.count
                let outdated = eligible.compactMap { byNode[$0.name]?.first }.filter { $0.labels[Self.hashLabel] != hash && Pod($0).isReady }
                deletes += outdated.prefix(max(0, maxUnavailable - unavailable))
            }
            expectations.expect(key, creates: creates.count, deletes: deletes.count)
            for node in creates {
                do {
                    _ = try await client.create(pods, pod(for: daemonSet, template: template, hash: hash, node: node))
                } catch {
                    expectations.observeCreate(key)
                }
            }
            for victim in deletes {
                do {
                    try await client.delete(pods, victim.objectKey, preconditionUID: victim.uid)
                } catch {
                    expectations.observeDelete(key)
                }
            }
        }
        try await updateStatus(daemonSet, eligible: eligible, byNode: byNode, hash: hash)
        return .done
    }

    /// The node a daemon pod is bound or pinned to.
    static func targetNode(_ pod: JSON) -> String? {
        if let node = Pod(pod).nodeName { return node }
        let terms = pod[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.array ?? []
        return terms.first?["matchFields"]?.array?.first?["values"]?.array?.first?.string
    }

    func pod(for daemonSet: JSON, template: JSON, hash: String, node: String) -> JSON {
        var metadata = template["metadata"] ?? [:]
        metadata["generateName"] = .string("\(daemonSet.name)-")
        metadata["namespace"] = daemonSet["metadata"]?["namespace"]
        metadata[path: ["labels", Self.hashLabel]] = .string(hash)
        metadata[path: ["labels", "pod-template-generation"]] = .string(String(daemonSet.generation))
        var spec = template["spec"] ?? [:]
        spec["tolerations"] = .array((spec["tolerations"]?.array ?? []) + Self.defaultTolerations)
        spec[path: ["affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]] = [
            "nodeSelectorTerms": [["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]]]
        var pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec]
        pod.ownerReferences = [OwnerReference.controlledBy(daemonSet)]
        return pod
    }

    func updateStatus(_ daemonSet: JSON, eligible: [Node], byNode: [String: [JSON]], hash: String) async throws {
        let eligibleNames = Set(eligible.map(\.name))
        let scheduled = eligible.filter { !(byNode[$0.name] ?? []).isEmpty }
        let ready = eligible.filter { (byNode[$0.name] ?? []).contains { Pod($0).isReady } }
        let updated = eligible.filter { (byNode[$0.name] ?? []).contains { $0.labels[Self.hashLabel] == hash } }
        var status = daemonSet["status"] ?? [:]
        status["desiredNumberScheduled"] = .int(Int64(eligible.count))
        status["currentNumberScheduled"] = .int(Int64(scheduled.count))
        status["numberMisscheduled"] = .int(Int64(byNode.keys.filter { !$0.isEmpty && !eligibleNames.contains($0) }.count))
        status["numberReady"] = .int(Int64(ready.count))
        status["numberAvailable"] = .int(Int64(ready.count))
        status["numberUnavailable"] = eligible.count > ready.count ? .int(Int64(eligible.count - ready.count)) : nil
        status["updatedNumberScheduled"] = .int(Int64(updated.count))
        status["observedGeneration"] = .int(daemonSet.generation)
        guard status != daemonSet["status"] else { return }
        var object = daemonSet
        object["status"] = status
        do {
            _ = try await client.updateStatus(try client.resource("daemonsets", group: "apps"), object)
        } catch let error as APIError where error.isNotFound || error.isConflict {}
    }
}
