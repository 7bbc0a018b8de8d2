import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// Rolls Deployments out through ReplicaSets, as kube-controller-manager's deployment controller does:
/// one ReplicaSet per pod template (named `<deployment>-<pod-template-hash>`, revision in the
/// `deployment.kubernetes.io/revision` annotation), scaled up and down within `maxSurge` and
/// `maxUnavailable` (or all old ones first with `Recreate`), old ones kept to `revisionHistoryLimit`,
/// and the `Available` and `Progressing` conditions (`ProgressDeadlineExceeded`) in status.
public final class DeploymentController: Controller {
    let client: KubeClient
    private let informers = Mutex<(deployments: Informer, replicaSets: Informer)?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "deployment" }
    public var workers: Int { 5 }

    static let revisionAnnotation = "deployment.kubernetes.io/revision"
    static let hashLabel = "pod-template-hash"

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let deployments = try await shared.informer("deployments", group: "apps")
        let replicaSets = try await shared.informer("replicasets", group: "apps")
        informers.withLock { $0 = (deployments, replicaSets) }
        deployments.addHandler { event in queue.add(event.key) }
        replicaSets.addHandler { event in
            let object: JSON? = switch event {
            case .sync(let key): replicaSets.get(key)
            case .change(let change): change.object
            }
            guard let object, let owner = object.controllerReference, owner.kind == "Deployment" else { return }
            queue.add(ObjectKey(namespace: object.namespace, name: owner.name))
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (deployments, replicaSetInformer) = informers.withLock({ $0 }), let deployment = deployments.get(key),
              key.namespace != nil, let uid = deployment.uid, deployment.deletionTimestamp == nil else { return .done }
        let owned = replicaSetInformer.objects.dependents(of: uid).filter { $0.controllerReference?.uid == uid }
        let replicaSets = try client.resource("replicasets", group: "apps")
        var all = owned
        let paused = deployment[path: ["spec", "paused"]]?.bool ?? false
        var newSet = Self.matching(deployment, in: owned)
        if newSet == nil, !paused {
            newSet = try await createReplicaSet(for: deployment, existing: owned, resource: replicaSets)
            if let newSet { all.append(newSet) }
        } else if let current = newSet, !paused {
            newSet = try await stampRevision(current, deployment: deployment, existing: owned, resource: replicaSets)
            all = all.map { $0.uid == newSet?.uid ? newSet! : $0 }
        }
        let old = all.filter { $0.uid != newSet?.uid }
        if let newSet, !paused, deployment.annotations[Self.revisionAnnotation] != newSet.annotations[Self.revisionAnnotation] {
            // The Deployment carries its current revision too (`kubectl rollout undo` edits it).
            var annotated = deployment
            annotated[path: ["metadata", "annotations", Self.revisionAnnotation]] = newSet[path: ["metadata", "annotations", Self.revisionAnnotation]]
            do {
                _ = try await client.update(try client.resource("deployments", group: "apps"), annotated)
            } catch let error as APIError where error.isConflict || error.isNotFound {
                return .done
            }
        }
        let desired = Workload(deployment).replicas
        if !paused {
            let strategy = deployment[path: ["spec", "strategy", "type"]]?.string ?? "RollingUpdate"
            if strategy == "Recreate" {
                try await recreate(deployment, newSet: newSet, old: old, desired: desired, resource: replicaSets)
            } else {
                try await rollingUpdate(deployment, newSet: newSet, old: old, desired: desired, resource: replicaSets)
            }
            try await cleanUpHistory(deployment, old: old, resource: replicaSets)
        } else if let newSet, old.allSatisfy({ Workload($0).replicas == 0 }) {
            // Paused: scaling still applies, the rollout does not move.
            try await scale(newSet, to: desired, deployment: deployment, resource: replicaSets)
        }
        let latest = replicaSetInformer.objects.dependents(of: uid).filter { $0.controllerReference?.uid == uid }
        return try await updateStatus(deployment, replicaSets: latest, newSet: newSet.flatMap { set in latest.first { $0.uid == set.uid } } ?? newSet)
    }

    // MARK: Replica sets

    /// The ReplicaSet whose template is the deployment's (its pod-template-hash label aside).
    static func matching(_ deployment: JSON, in sets: [JSON]) -> JSON? {
        let template = deployment[path: ["spec", "template"]] ?? [:]
        return sets.first { set in
            var candidate = set[path: ["spec", "template"]] ?? [:]
            candidate[path: ["metadata", "labels", hashLabel]] = nil
            if candidate[path: ["metadata", "labels"]]?.object?.isEmpty == true { candidate[path: ["metadata", "labels"]] = nil }
            return candidate == template
        }
    }

    static func revision(_ object: JSON) -> Int64 { Int64(object.annotations[revisionAnnotation] ?? "") ?? 0 }

    /// The hash of a pod template, spelled as Kubernetes spells it (FNV-1a, in its safe alphabet).
    static func templateHash(_ template: JSON, collisionCount: Int64) -> String {
        let hash = FNV1a.hash32(JSONCoding.encode(template) + Array(String(collisionCount).utf8))
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var text = ""
        for character in String(hash) { text.append(alphabet[Int(character.asciiValue! - 48) % alphabet.count]) }
        return text
    }

    func createReplicaSet(for deployment: JSON, existing: [JSON], resource: ResourceType) async throws -> JSON? {
        let collisions = deployment[path: ["status", "collisionCount"]]?.int ?? 0
        var template = deployment[path: ["spec", "template"]] ?? [:]
        let hash = Self.templateHash(template, collisionCount: collisions)
        template[path: ["metadata", "labels", Self.hashLabel]] = .string(hash)
        var selector = deployment[path: ["spec", "selector"]] ?? [:]
        selector[path: ["matchLabels", Self.hashLabel]] = .string(hash)
        let revision = (existing.map(Self.revision).max() ?? 0) + 1
        let desired = Workload(deployment).replicas
        var labels = deployment[path: ["spec", "template", "metadata", "labels"]]?.object ?? [:]
        labels[Self.hashLabel] = .string(hash)
        var set: JSON = [
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": ["name": .string("\(deployment.name)-\(hash)"), "namespace": .string(deployment.namespace ?? "default"),
                         "labels": .object(labels),
                         "annotations": [.init(stringLiteral: Self.revisionAnnotation): .string(String(revision)),
                                         "deployment.kubernetes.io/desired-replicas": .string(String(desired)),
                                         "deployment.kubernetes.io/max-replicas": .string(String(desired + Self.maxSurge(deployment)))]],
            "spec": ["replicas": 0, "minReadySeconds": deployment[path: ["spec", "minReadySeconds"]] ?? 0, "selector": selector,
                     "template": template],
        ]
        set.ownerReferences = [OwnerReference.controlledBy(deployment)]
        do {
            return try await client.create(resource, set)
        } catch let error as APIError where error.isAlreadyExists {
            // A hash collision with a ReplicaSet of another template: count it, and the next try hashes differently.
            var bumped = deployment
            bumped[path: ["status", "collisionCount"]] = .int(collisions + 1)
            _ = try? await client.updateStatus(try client.resource("deployments", group: "apps"), bumped)
            throw error
        }
    }

    /// A ReplicaSet that becomes the new one again (a rollback) takes the next revision.
    func stampRevision(_ set: JSON, deployment: JSON, existing: [JSON], resource: ResourceType) async throws -> JSON {
        let highest = existing.map(Self.revision).max() ?? 0
        guard Self.revision(set) < highest else { return set }
        var updated = set
        updated[path: ["metadata", "annotations", Self.revisionAnnotation]] = .string(String(highest + 1))
        return try await client.update(resource, updated)
    }

    func scale(_ set: JSON, to replicas: Int64, deployment: JSON, resource: ResourceType) async throws {
        guard Workload(set).replicas != replicas || set.annotations["deployment.kubernetes.io/desired-replicas"] != String(Workload(deployment).replicas) else { return }
        var updated = set
        updated[path: ["spec", "replicas"]] = .int(replicas)
        updated[path: ["metadata", "annotations", "deployment.kubernetes.io/desired-replicas"]] = .string(String(Workload(deployment).replicas))
        updated[path: ["metadata", "annotations", "deployment.kubernetes.io/max-replicas"]] = .string(String(Workload(deployment).replicas + Self.maxSurge(deployment)))
        _ = try await client.update(resource, updated)
    }

    // MARK: Strategies

    static func resolve(_ value: JSON?, of total: Int64, roundUp: Bool) -> Int64 {
        switch value {
        case .int(let number)?: return number
        case .string(let text)? where text.hasSuffix("%"):
            let percent = Double(text.dropLast()) ?? 0
            let exact = Double(total) * percent / 100
            return Int64(roundUp ? exact.rounded(.up) : exact.rounded(.down))
        case .string(let text)?: return Int64(text) ?? 0
        default: return 0
        }
    }

    static func maxSurge(_ deployment: JSON) -> Int64 {
        guard deployment[path: ["spec", "strategy", "type"]]?.string != "Recreate" else { return 0 }
        return resolve(deployment[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]], of: Workload(deployment).replicas, roundUp: true)
    }

    static func maxUnavailable(_ deployment: JSON) -> Int64 {
        let replicas = Workload(deployment).replicas
        guard deployment[path: ["spec", "strategy", "type"]]?.string != "Recreate" else { return replicas }
        let unavailable = resolve(deployment[path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]], of: replicas, roundUp: false)
        // Both zero would never move: one pod may be unavailable, as Kubernetes resolves it.
        if unavailable == 0, maxSurge(deployment) == 0 { return min(1, replicas) }
        return min(unavailable, replicas)
    }

    func rollingUpdate(_ deployment: JSON, newSet: JSON?, old: [JSON], desired: Int64, resource: ResourceType) async throws {
        guard let newSet else { return }
        let all = old + [newSet]
        let total = all.reduce(Int64(0)) { $0 + Workload($1).replicas }
        // Scale up the new ReplicaSet within the surge.
        let newReplicas = Workload(newSet).replicas
        let ceiling = desired + Self.maxSurge(deployment)
        let scaledUp = old.allSatisfy({ Workload($0).replicas == 0 }) ? desired : min(desired, max(newReplicas, newReplicas + ceiling - total))
        if scaledUp != newReplicas || newSet.annotations["deployment.kubernetes.io/desired-replicas"] != String(desired) {
            try await scale(newSet, to: scaledUp, deployment: deployment, resource: resource)
        }
        // Scale down old ones while enough pods stay available.
        let oldTotal = old.reduce(Int64(0)) { $0 + Workload($1).replicas }
        guard oldTotal > 0 else { return }
        let minAvailable = desired - Self.maxUnavailable(deployment)
        let newUnavailable = max(0, scaledUp - Workload(newSet).status("availableReplicas"))
        let allPods = total - newReplicas + scaledUp
        var budget = allPods - minAvailable - newUnavailable
        guard budget > 0 else { return }
        let oldestFirst = old.filter { Workload($0).replicas > 0 }.sorted { ($0.creationTimestamp ?? .distantPast) < ($1.creationTimestamp ?? .distantPast) }
        // First the old pods that are not available anyway, then available ones down to the floor.
        var remaining: [String: Int64] = [:]
        for set in oldestFirst {
            let workload = Workload(set)
            let unhealthy = max(0, workload.replicas - workload.status("availableReplicas"))
            let cut = min(unhealthy, budget)
            remaining[set.uid ?? ""] = workload.replicas - cut
            budget -= cut
        }
        let available = all.reduce(Int64(0)) { $0 + Workload($1).status("availableReplicas") }
        var spare = min(budget, max(0, available - minAvailable))
        for set in oldestFirst {
            let current = remaining[set.uid ?? ""] ?? Workload(set).replicas
            let cut = min(current, spare)
            spare -= cut
            if current - cut != Workload(set).replicas {
                try await scale(set, to: current - cut, deployment: deployment, resource: resource)
            }
        }
    }

    func recreate(_ deployment: JSON, newSet: JSON?, old: [JSON], desired: Int64, resource: ResourceType) async throws {
        for set in old where Workload(set).replicas > 0 { try await scale(set, to: 0, deployment: deployment, resource: resource) }
        // The new pods start once no old pod is left.
        guard let newSet, old.allSatisfy({ Workload($0).status("replicas") == 0 && Workload($0).replicas == 0 }) else { return }
        try await scale(newSet, to: desired, deployment: deployment, resource: resource)
    }

    /// Old ReplicaSets with no pods beyond `revisionHistoryLimit` go, oldest revision first.
    func cleanUpHistory(_ deployment: JSON, old: [JSON], resource: ResourceType) async throws {
        let limit = Int(deployment[path: ["spec", "revisionHistoryLimit"]]?.int ?? 10)
        let idle = old.filter { Workload($0).replicas == 0 && Workload($0).status("replicas") == 0 && $0.deletionTimestamp == nil }
            .sorted { Self.revision($0) < Self.revision($1) }
        guard idle.count > limit else { return }
        for set in idle.prefix(idle.count - limit) {
            _ = try? await client.delete(resource, set.objectKey, preconditionUID: set.uid)
        }
    }

    // MARK: Status

    func updateStatus(_ deployment: JSON, replicaSets: [JSON], newSet: JSON?) async throws -> Reconciled {
        let desired = Workload(deployment).replicas
        func sum(_ field: String) -> Int64 { replicaSets.reduce(0) { $0 + Workload($1).status(field) } }
        let updatedReplicas = newSet.map { Workload($0).status("replicas") } ?? 0
        let available = sum("availableReplicas")
        var status = deployment["status"] ?? [:]
        status["observedGeneration"] = .int(deployment.generation)
        status["replicas"] = .int(sum("replicas"))
        status["updatedReplicas"] = .int(updatedReplicas)
        status["readyReplicas"] = .int(sum("readyReplicas"))
        status["availableReplicas"] = .int(available)
        status["unavailableReplicas"] = .int(max(0, desired - available))
        for field in ["readyReplicas", "availableReplicas", "unavailableReplicas", "updatedReplicas", "replicas"] where status[field] == .int(0) {
            status[field] = nil
        }
        var updated = deployment
        updated["status"] = status
        let now = Date()
        if available >= desired - Self.maxUnavailable(deployment) {
            updated.setCondition(Condition(type: "Available", status: "True", reason: "MinimumReplicasAvailable",
                                           message: "Deployment has minimum availability."), now: now)
        } else {
            updated.setCondition(Condition(type: "Available", status: "False", reason: "MinimumReplicasUnavailable",
                                           message: "Deployment does not have minimum availability."), now: now)
        }
        let complete = newSet != nil && updatedReplicas == desired && sum("replicas") == desired && available >= desired
            && newSet.map { Workload($0).status("availableReplicas") } == desired
        var requeue: Reconciled = .done
        if let newSet, !(deployment[path: ["spec", "paused"]]?.bool ?? false) {
            let progressing = updated.condition("Progressing")
            if complete {
                setProgressing(&updated, status: "True", reason: "NewReplicaSetAvailable",
                               message: "ReplicaSet \"\(newSet.name)\" has successfully progressed.", now: now, keepUpdateTime: progressing?.reason == "NewReplicaSetAvailable")
            } else if progressing?.reason == "ProgressDeadlineExceeded" {
                // Stays timed out until the rollout moves again.
            } else {
                let deadline = TimeInterval(deployment[path: ["spec", "progressDeadlineSeconds"]]?.int ?? 600)
                let moving = deployment["status"] != status || progressing == nil || progressing?.reason == "NewReplicaSetAvailable"
                let lastUpdate = updated.progressingUpdateTime ?? now
                if !moving, now.timeIntervalSince(lastUpdate) > deadline {
                    setProgressing(&updated, status: "False", reason: "ProgressDeadlineExceeded",
                                   message: "ReplicaSet \"\(newSet.name)\" has timed out progressing.", now: now, keepUpdateTime: false)
                } else {
                    let created = progressing == nil || progressing?.reason == "NewReplicaSetAvailable"
                    setProgressing(&updated, status: "True", reason: created ? "NewReplicaSetCreated" : "ReplicaSetUpdated",
                                   message: created ? "Created new replica set \"\(newSet.name)\"" : "ReplicaSet \"\(newSet.name)\" is progressing.",
                                   now: now, keepUpdateTime: !moving)
                    requeue = .requeue(after: .seconds(Int64(max(1, deadline - now.timeIntervalSince(updated.progressingUpdateTime ?? now)))))
                }
            }
        }
        if updated != deployment {
            do {
                _ = try await client.updateStatus(try client.resource("deployments", group: "apps"), updated)
            } catch let error as APIError where error.isNotFound || error.isConflict {}
        }
        return requeue
    }

    func setProgressing(_ deployment: inout JSON, status: String, reason: String, message: String, now: Date, keepUpdateTime: Bool) {
        let previous = deployment.condition("Progressing")
        let previousUpdate = deployment.progressingUpdateTime
        let sameReason = previous?.reason == reason
        deployment.setCondition(Condition(type: "Progressing", status: status, reason: reason, message: message), now: now)
        // lastUpdateTime moves whenever the rollout does; it is what the progress deadline counts from.
        let stamp = keepUpdateTime && sameReason ? previousUpdate ?? now : now
        var conditions = deployment[path: ["status", "conditions"]]?.array ?? []
        if let index = conditions.firstIndex(where: { $0["type"] == "Progressing" }) {
            conditions[index]["lastUpdateTime"] = .string(Timestamps.format(stamp))
        }
        deployment[path: ["status", "conditions"]] = .array(conditions)
    }
}

extension JSON {
    fileprivate var progressingUpdateTime: Date? {
        (self[path: ["status", "conditions"]]?.array ?? []).first { $0["type"] == "Progressing" }?["lastUpdateTime"]?.string
            .flatMap(Timestamps.parse)
    }
}
