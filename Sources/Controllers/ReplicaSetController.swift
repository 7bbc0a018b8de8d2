import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Keeps `spec.replicas` pods of a ReplicaSet (or ReplicationController) in existence, as
/// kube-controller-manager's replicaset controller does: creates pods from the template in growing
/// batches, deletes the surplus (unscheduled, pending and not-ready pods first, the newest before the
/// oldest), adopts matching orphans, and reports replicas, ready and available counts in `status`.
/// Expectations of creates and deletes it has made keep a lagging informer from making it act twice.
public final class ReplicaSetController: Controller {
    let client: KubeClient
    /// `replicasets` (apps/v1) or `replicationcontrollers` (v1).
    let plural: String
    let group: String
    let kind: String
    private let informers = Mutex<(owners: Informer, pods: Informer)?>(nil)
    let expectations = Expectations()
    /// The most pods created or deleted in one step (kube's burstReplicas).
    static let burst = 500

    /// Where scaling is told, as kube-controller-manager logs it at `-v=2`.
    let logger: Logger?

    public init(client: KubeClient, plural: String = "replicasets", group: String = "apps", kind: String = "ReplicaSet", logger: Logger? = nil) {
        self.client = client
        self.plural = plural
        self.group = group
        self.kind = kind
        self.logger = logger
    }

    /// `replicaSet` or `replicationController`, klog's key for the object.
    static func logKey(_ kind: String) -> String { kind.prefix(1).lowercased() + kind.dropFirst() }

    public var name: String { plural == "replicasets" ? "replicaset" : "replicationcontroller" }
    public var workers: Int { 5 }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let owners = try await shared.informer(plural, group: group)
        let pods = try await shared.informer("pods")
        informers.withLock { $0 = (owners, pods) }
        owners.addHandler { event in queue.add(event.key) }
        pods.addHandler { [kind, expectations] event in
            guard case .change(let change) = event else {
                if let pod = pods.get(event.key), let owner = pod.controllerReference, owner.kind == kind {
                    queue.add(ObjectKey(namespace: pod.namespace, name: owner.name))
                }
                return
            }
            var owners: [OwnerReference] = []
            if let owner = change.object.controllerReference, owner.kind == kind { owners.append(owner) }
            // The previous state is decoded only when the owners changed (a release or an adoption).
            let previous = change.owners != change.previousOwners ? change.previous : nil
            if let before = previous?.controllerReference, before.kind == kind, !owners.contains(before) { owners.append(before) }
            for owner in owners {
                let key = ObjectKey(namespace: change.key.namespace, name: owner.name)
                switch change.kind {
                case .added: expectations.observeCreate(key)
                case .deleted: expectations.observeDelete(key)
                case .updated:
                    // Held by a finalizer, a deleted pod is first only marked: that is the delete observed.
                    if change.object.deletionTimestamp != nil, change.previous?.deletionTimestamp == nil { expectations.observeDelete(key) }
                }
                queue.add(key)
            }
            // A pod with no controller may be adopted by a ReplicaSet that selects it.
            if owners.isEmpty, change.kind != .deleted, let namespace = change.key.namespace {
                for owner in self.owners(in: namespace, selecting: change.object) { queue.add(owner) }
            }
        }
    }

    private func owners(in namespace: String, selecting pod: JSON) -> [ObjectKey] {
        guard let owners = informers.withLock({ $0?.owners }) else { return [] }
        return owners.list(namespace: namespace).filter { Workload($0).selector?.matches(pod.labels) == true }.map(\.objectKey)
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (owners, podInformer) = informers.withLock({ $0 }) else { return .done }
        let resource = try client.resource(plural, group: group, version: "v1")
        guard let object = owners.get(key), let namespace = key.namespace else {
            expectations.forget(key)
            return .done
        }
        let owner = Workload(object)
        guard let selector = owner.selector, !owner.uid.isEmpty else { return .done }
        let pods = try await claimPods(owner, selector: selector, informer: podInformer, namespace: namespace)
        let active = pods.filter { !$0.isTerminal && !$0.isDeleting }
        let wanted = Int(owner.replicas)
        if expectations.satisfied(key), object.deletionTimestamp == nil {
            if active.count < wanted {
                let creating = min(wanted - active.count, Self.burst)
                logger?.info("Too few replicas", metadata: [Self.logKey(kind): "\(key)", "need": "\(wanted)", "creating": "\(creating)"])
                try await create(creating, for: owner, key: key)
            } else if active.count > wanted {
                let victims = Self.ranked(active).prefix(min(active.count - wanted, Self.burst))
                logger?.info("Too many replicas", metadata: [Self.logKey(kind): "\(key)", "need": "\(wanted)", "deleting": "\(victims.count)"])
                try await delete(victims.compactMap { podInformer.get($0.key) }[...], key: key)
            }
        }
        try await updateStatus(object, pods: active, resource: resource)
        return .done
    }

    /// What the controller reads of each pod, from the watch cache's summary (no decoding).
    struct PodState: Sendable {
        let key: ObjectKey
        let labels: [String: String]
        let phase: String
        let nodeName: String?
        let isReady: Bool
        /// When it became ready, as written (parsed only where `minReadySeconds` asks).
        let readySince: String
        let isDeleting: Bool
        let created: String

        init(_ summary: CachedResource.Summary) {
            key = summary.key
            labels = summary.labels
            phase = summary.fields["status.phase"] ?? "Pending"
            nodeName = summary.fields["spec.nodeName"].flatMap { $0.isEmpty ? nil : $0 }
            isReady = summary.summary["ready"] == "True"
            readySince = summary.summary["readySince"] ?? ""
            isDeleting = summary.summary["deleting"] == "true"
            created = summary.summary["created"] ?? ""
        }

        var isTerminal: Bool { phase == "Succeeded" || phase == "Failed" }
    }

    /// A merge patch setting the pod's owner references, on the condition that it is unchanged since read.
    static func ownerPatch(_ pod: JSON) -> JSON {
        ["metadata": ["ownerReferences": pod[path: ["metadata", "ownerReferences"]] ?? [],
                      "resourceVersion": .string(pod.resourceVersion ?? ""), "uid": .string(pod.uid ?? "")]]
    }

    /// The pods this owner controls; orphans its selector matches are adopted, and pods it controls but
    /// no longer selects are released, as the controller ref manager does. Only those are decoded.
    func claimPods(_ owner: Workload, selector: LabelSelector, informer: Informer, namespace: String) async throws -> [PodState] {
        let podResource = try client.resource("pods")
        var claimed: [PodState] = []
        for summary in informer.objects.dependentSummaries(of: owner.uid) where summary.key.namespace == namespace && summary.controller == owner.uid {
            if selector.matches(summary.labels) {
                claimed.append(PodState(summary))
                continue
            }
            guard var released = informer.get(summary.key) else { continue }
            released.ownerReferences = released.ownerReferences.filter { $0.uid != owner.uid }
            // A patch, as the controller ref manager sends it (its role may patch pods, not update them).
            _ = try? await client.patch(podResource, summary.key, Self.ownerPatch(released))
        }
        guard owner.object.deletionTimestamp == nil else { return claimed }
        for pod in informer.objects.unowned(namespace: namespace, selector: selector) where pod.deletionTimestamp == nil {
            var adopted = pod
            adopted.ownerReferences = pod.ownerReferences + [OwnerReference.controlledBy(owner.object)]
            if let updated = try? await client.patch(podResource, pod.objectKey, Self.ownerPatch(adopted)) {
                claimed.append(PodState(CachedResource.Summary(key: updated.objectKey, labels: updated.labels,
                                                               fields: ["status.phase": Pod(updated).phase, "spec.nodeName": Pod(updated).nodeName ?? ""],
                                                               controller: owner.uid, summary: ["ready": Pod(updated).isReady ? "True" : "False"])))
            }
        }
        return claimed
    }

    /// Creates pods in batches of 1, 2, 4, … (kube's slow start), stopping at the first failure.
    func create(_ count: Int, for owner: Workload, key: ObjectKey) async throws {
        let pods = try client.resource("pods")
        var template = owner.template
        var metadata = template["metadata"] ?? [:]
        metadata["generateName"] = .string("\(owner.name)-")
        metadata["namespace"] = .string(owner.namespace)
        metadata["name"] = nil
        template["metadata"] = metadata
        var pod: JSON = ["apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"] ?? [:]]
        pod.ownerReferences = [OwnerReference.controlledBy(owner.object)]
        let newPod = pod
        expectations.expect(key, creates: count)
        var remaining = count
        var batch = 1
        while remaining > 0 {
            let size = min(batch, remaining)
            let failures = await withTaskGroup(of: Bool.self) { group -> Int in
                for _ in 0..<size { group.addTask { (try? await self.client.create(pods, newPod)) != nil } }
                return await group.reduce(0) { $0 + ($1 ? 0 : 1) }
            }
            remaining -= size
            if failures > 0 {
                // Those not made (and those skipped) will never be observed.
                expectations.observeCreates(key, count: failures + remaining)
                throw APIError.internalError("\(failures) of \(size) pods of \(kind) \(key) could not be created")
            }
            batch *= 2
        }
    }

    func delete(_ victims: ArraySlice<JSON>, key: ObjectKey) async throws {
        let pods = try client.resource("pods")
        expectations.expect(key, deletes: victims.count)
        await withTaskGroup(of: Void.self) { group in
            for victim in victims {
                group.addTask {
                    do {
                        try await self.client.delete(pods, victim.objectKey, preconditionUID: victim.uid)
                    } catch {
                        self.expectations.observeDelete(key)
                    }
                }
            }
        }
    }

    /// Which pods go first when scaling down: unassigned, then pending, then not ready, then the newest.
    static func ranked(_ pods: [PodState]) -> [PodState] {
        pods.sorted { left, right in
            if (left.nodeName == nil) != (right.nodeName == nil) { return left.nodeName == nil }
            if (left.phase == "Pending") != (right.phase == "Pending") { return left.phase == "Pending" }
            if left.isReady != right.isReady { return !left.isReady }
            return left.created > right.created
        }
    }

    func updateStatus(_ object: JSON, pods: [PodState], resource: ResourceType) async throws {
        let owner = Workload(object)
        let templateLabels = owner.template.labels
        let minReadySeconds = TimeInterval(object[path: ["spec", "minReadySeconds"]]?.int ?? 0)
        let ready = pods.filter(\.isReady)
        let now = Date()
        let available = ready.filter { pod in
            minReadySeconds <= 0 || now.timeIntervalSince(Timestamps.parse(pod.readySince) ?? .distantFuture) >= minReadySeconds
        }
        var status = object["status"] ?? [:]
        status["replicas"] = .int(Int64(pods.count))
        status["fullyLabeledReplicas"] = .int(Int64(pods.filter { pod in templateLabels.allSatisfy { pod.labels[$0.key] == $0.value } }.count))
        status["readyReplicas"] = .int(Int64(ready.count))
        status["availableReplicas"] = .int(Int64(available.count))
        status["observedGeneration"] = .int(object.generation)
        guard status != object["status"] else { return }
        var updated = object
        updated["status"] = status
        do {
            _ = try await client.updateStatus(resource, updated)
        } catch let error as APIError where error.isNotFound || error.isConflict {}
    }
}

/// Creates and deletes a controller has asked for but not yet seen in its informer, per owner (kube's
/// ControllerExpectations); while any are outstanding it does not act on the owner again, unless they
/// are older than five minutes.
final class Expectations: Sendable {
    private struct Outstanding {
        var creates = 0
        var deletes = 0
        var since = ContinuousClock.now
    }

    private let table = Mutex<[ObjectKey: Outstanding]>([:])

    func expect(_ key: ObjectKey, creates: Int = 0, deletes: Int = 0) {
        table.withLock { $0[key] = Outstanding(creates: creates, deletes: deletes) }
    }

    func observeCreate(_ key: ObjectKey) { observeCreates(key, count: 1) }

    func observeCreates(_ key: ObjectKey, count: Int) {
        table.withLock { $0[key]?.creates -= count }
    }

    func observeDelete(_ key: ObjectKey) {
        table.withLock { $0[key]?.deletes -= 1 }
    }

    func satisfied(_ key: ObjectKey) -> Bool {
        table.withLock { table in
            guard let outstanding = table[key] else { return true }
            return (outstanding.creates <= 0 && outstanding.deletes <= 0) || ContinuousClock.now - outstanding.since > .seconds(300)
        }
    }

    func forget(_ key: ObjectKey) {
        _ = table.withLock { $0.removeValue(forKey: key) }
    }
}
