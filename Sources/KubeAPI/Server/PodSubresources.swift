import Foundation
import KubeModel

/// `pods/binding`: a scheduler assigns a pod to a node.
struct PodBinding: SubresourceHandler {
    func handle(_ request: SubresourceRequest) async throws -> APIResponse {
        try await PodSubresources.bind(request.request, pods: request.resource, namespace: request.namespace, name: request.name,
                                       registry: request.registry)
    }
}

/// `pods/eviction`: a pod is deleted only if its PodDisruptionBudgets allow it.
struct PodEviction: SubresourceHandler {
    func handle(_ request: SubresourceRequest) async throws -> APIResponse {
        try await PodSubresources.evict(request.request, pods: request.resource, namespace: request.namespace, name: request.name,
                                        registry: request.registry)
    }
}

/// `pods/log`, `exec`, `attach` and `portforward`: a kubelet's streams. Skiff's nodes are simulated and run no
/// containers, so these answer with an error that says so, after the checks kube-apiserver makes first.
struct PodStreams: SubresourceHandler {
    let subresource: String

    func handle(_ request: SubresourceRequest) async throws -> APIResponse {
        let method = request.request.method
        guard subresource == "log" ? method == "GET" : ["GET", "POST"].contains(method) else {
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let pod = try await request.registry.get(request.resource, namespace: request.namespace, name: request.name)
        let containers = Pod(pod).containers.compactMap { $0["name"]?.string }
            + Pod(pod).initContainers.compactMap { $0["name"]?.string }
        if subresource != "portforward" {
            if let container = request.request.query["container"], !container.isEmpty, !containers.contains(container) {
                throw APIError.badRequest("container \(container) is not valid for pod \(request.name)")
            }
            if request.request.query["container"] == nil, containers.count > 1 {
                throw APIError.badRequest("a container name must be specified for pod \(request.name), choose one of: [\(containers.joined(separator: " "))]")
            }
        }
        guard let node = Pod(pod).nodeName, !node.isEmpty else {
            throw APIError.badRequest("pod \(request.name) does not have a host assigned")
        }
        let what = switch subresource {
        case "log": "there are no container logs to show"
        case "portforward": "there is no port to forward to"
        default: "there is no container process to \(subresource) to"
        }
        throw APIError.badRequest("pod \(request.name) runs on \(node), a node Skiff simulates: it runs no containers, so \(what)")
    }
}

enum PodSubresources {
    static func success(_ code: Int = 201) -> APIResponse {
        .json(["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "code": .int(Int64(code))], status: code)
    }

    static func bind(_ request: APIRequest, pods: ResourceType, namespace: String?, name: String, registry: Registry) async throws -> APIResponse {
        guard request.method == "POST" else { throw APIError.methodNotAllowed("the server does not allow this method on the requested resource") }
        let binding = try APIServer.decodeBody(request)
        guard let node = binding[path: ["target", "name"]]?.string, !node.isEmpty else {
            throw APIError.invalid(kind: "Binding", name: name, causes: [.required("target.name")])
        }
        _ = try await registry.guaranteedUpdate(pods, namespace: namespace, name: name, expectedRevision: nil, dryRun: false) { current in
            if let assigned = current[path: ["spec", "nodeName"]]?.string, !assigned.isEmpty {
                throw APIError.conflict("pods", name: name, why: "pod \(name) is already assigned to node \"\(assigned)\"")
            }
            if current.deletionTimestamp != nil {
                throw APIError.conflict("pods", name: name, why: "pod \(name) is being deleted, cannot be assigned to a host")
            }
            var pod = current
            pod[path: ["spec", "nodeName"]] = .string(node)
            var conditions = (pod[path: ["status", "conditions"]]?.array ?? []).filter { $0["type"]?.string != "PodScheduled" }
            conditions.append(["type": "PodScheduled", "status": "True", "lastProbeTime": nil,
                               "lastTransitionTime": .string(Timestamps.format(Date()))])
            pod[path: ["status", "conditions"]] = .array(conditions)
            return pod
        }
        return success()
    }

    static func evict(_ request: APIRequest, pods: ResourceType, namespace: String?, name: String, registry: Registry) async throws -> APIResponse {
        guard request.method == "POST" else { throw APIError.methodNotAllowed("the server does not allow this method on the requested resource") }
        let eviction = try APIServer.decodeBody(request)
        let pod = try await registry.get(pods, namespace: namespace, name: name)
        if pod.deletionTimestamp == nil, let budgets = registry.resources.find(group: "policy", version: "v1", resource: "poddisruptionbudgets") {
            let all = try await registry.list(budgets, namespace: namespace, options: ListOptions()).items
            let matching = all.filter { budget in
                (try? LabelSelector(object: budget[path: ["spec", "selector"]] ?? [:])).map { !$0.isEmpty && $0.matches(pod.labels) } ?? false
            }
            for budget in matching {
                let (allowed, healthy, desired) = try await disruptionsAllowed(budget, namespace: namespace, pods: pods, registry: registry)
                if allowed <= 0 && (isReady(pod) || healthy < desired) {
                    throw APIError(code: 429, reason: "TooManyRequests",
                                   message: "Cannot evict pod as it would violate the pod's disruption budget.",
                                   details: ["causes": [["reason": "DisruptionBudget",
                                                         "message": .string("The disruption budget \(budget.name) needs \(desired) healthy pods and has \(healthy) currently")]]])
                }
            }
        }
        var options = Registry.DeleteOptions()
        if let grace = eviction[path: ["deleteOptions", "gracePeriodSeconds"]]?.int { options.gracePeriodSeconds = grace }
        options.preconditionUID = eviction[path: ["deleteOptions", "preconditions", "uid"]]?.string
        options.dryRun = request.query["dryRun"] == "All"
        _ = try await registry.delete(pods, namespace: namespace, name: name, options: options)
        return success()
    }

    static func isReady(_ pod: JSON) -> Bool {
        (pod[path: ["status", "conditions"]]?.array ?? []).contains { $0["type"]?.string == "Ready" && $0["status"]?.string == "True" }
    }

    /// The budget as it stands now (not as its status last said: evictions in quick succession must each see the ones before).
    static func disruptionsAllowed(_ budget: JSON, namespace: String?, pods: ResourceType, registry: Registry) async throws
        -> (allowed: Int64, healthy: Int64, desired: Int64) {
        var options = ListOptions()
        options.labelSelector = try LabelSelector(object: budget[path: ["spec", "selector"]] ?? [:])
        let state = DisruptionBudget(budget, selected: try await registry.list(pods, namespace: namespace, options: options).items)
        return (state.allowed, state.healthy, state.desired)
    }
}
