import KubeModel

/// Kubelets (`system:node:NAME` in `system:nodes`) get what the `system:node` role grants, as kube-apiserver's
/// Node authorizer grants it to node identities (without binding the role to anyone), limited as the Node
/// authorizer and NodeRestriction limit them: a node reads one by one only the secrets, config maps, claims and
/// volumes its own pods use, asks tokens only for its pods' service accounts, changes only its own Node, Lease
/// and pods. What its pods use is read from the watch caches.
public struct NodeAuthorizer: Authorizer {
    /// nil: the graph is not known, and the limits by relationship are not applied.
    let registry: Registry?

    public init(registry: Registry? = nil) {
        self.registry = registry
    }

    static let rules = BootstrapPolicy.clusterRoles.first { $0.name == "system:node" }?.rules ?? []
    static let graphKinds: Set = ["secrets", "configmaps", "persistentvolumeclaims", "persistentvolumes"]

    static func isNode(_ user: UserInfo) -> Bool {
        user.name.hasPrefix("system:node:") && user.groups.contains("system:nodes")
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        guard Self.isNode(request.user) else { return AuthorizationDecision(allowed: false) }
        if let resource = request.resource, let refusal = refusal(resource, node: String(request.user.name.dropFirst("system:node:".count))) {
            return AuthorizationDecision(allowed: false, reason: refusal)
        }
        return AuthorizationDecision(allowed: Self.rules.contains { $0.allows(request) })
    }

    /// Why a node may not make this request whatever its role grants, or nil.
    func refusal(_ resource: ResourceAttributes, node: String) -> String? {
        let unrelated = "no relationship found between node '\(node)' and this object"
        guard resource.group.isEmpty || resource.group == "coordination.k8s.io" else { return nil }
        if resource.group.isEmpty, Self.graphKinds.contains(resource.resource), resource.subresource == nil {
            guard resource.verb == "get", let name = resource.name else { return "can only get individual resources of this type" }
            guard let graph = graph(of: node) else { return nil }
            return graph.uses(resource.resource, namespace: resource.namespace ?? "", name: name) ? nil : unrelated
        }
        switch (resource.group, resource.resource, resource.subresource) {
        case ("", "serviceaccounts", "token"):
            guard let name = resource.name, let graph = graph(of: node) else { return nil }
            return graph.serviceAccounts.contains("\(resource.namespace ?? "")/\(name)") ? nil : unrelated
        case ("", "pods", "status"), ("", "pods", "eviction"), ("", "pods", nil) where resource.verb == "delete":
            guard let name = resource.name, let pod = cache("pods")?.summary(ObjectKey(namespace: resource.namespace ?? "", name: name))
            else { return nil }
            return pod.fields["spec.nodeName"] == node ? nil
                : "node '\(node)' can only \(resource.subresource == "status" ? "update pod status" : "delete or evict pods") for pods with spec.nodeName set to itself"
        case ("", "nodes", _), ("coordination.k8s.io", "leases", nil) where resource.group.isEmpty || resource.namespace == "kube-node-lease":
            guard ["update", "patch", "delete"].contains(resource.verb), let name = resource.name, name != node else { return nil }
            return "node '\(node)' cannot modify another node's \(resource.resource)"
        default:
            return nil
        }
    }

    public func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules {
        Self.isNode(user) ? AuthorizationRules(Self.rules) : .none
    }

    private func cache(_ resource: String) -> CachedResource? {
        registry.flatMap { registry in registry.resources.find(group: "", version: "v1", resource: resource).map(registry.cached) }
    }

    /// What the pods bound to `node` use.
    private func graph(of node: String) -> NodeGraph? {
        guard let pods = cache("pods") else { return nil }
        var graph = NodeGraph()
        for pod in pods.list(field: "spec.nodeName", value: node) { graph.add(pod) }
        if !graph.claims.isEmpty, let claims = cache("persistentvolumeclaims") {
            for key in graph.claims {
                let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2, let volume = claims.get(ObjectKey(namespace: parts[0], name: parts[1]))?[path: ["spec", "volumeName"]]?.string
                else { continue }
                graph.volumes.insert(volume)
            }
        }
        return graph
    }
}

/// The objects a node's pods refer to, each as `namespace/name` (volumes by name alone).
struct NodeGraph {
    var secrets: Set<String> = []
    var configMaps: Set<String> = []
    var claims: Set<String> = []
    var volumes: Set<String> = []
    var serviceAccounts: Set<String> = []

    func uses(_ resource: String, namespace: String, name: String) -> Bool {
        switch resource {
        case "secrets": secrets.contains("\(namespace)/\(name)")
        case "configmaps": configMaps.contains("\(namespace)/\(name)")
        case "persistentvolumeclaims": claims.contains("\(namespace)/\(name)")
        case "persistentvolumes": volumes.contains(name)
        default: false
        }
    }

    mutating func add(_ pod: JSON) {
        guard let namespace = pod[path: ["metadata", "namespace"]]?.string, let spec = pod["spec"] else { return }
        let podName = pod[path: ["metadata", "name"]]?.string ?? ""
        func key(_ name: JSON?) -> String? { name?.string.map { "\(namespace)/\($0)" } }
        serviceAccounts.insert("\(namespace)/\(spec["serviceAccountName"]?.string ?? "default")")
        for secret in spec["imagePullSecrets"]?.array ?? [] { key(secret["name"]).map { _ = secrets.insert($0) } }
        for volume in spec["volumes"]?.array ?? [] {
            key(volume[path: ["secret", "secretName"]]).map { _ = secrets.insert($0) }
            key(volume[path: ["configMap", "name"]]).map { _ = configMaps.insert($0) }
            key(volume[path: ["persistentVolumeClaim", "claimName"]]).map { _ = claims.insert($0) }
            if volume["ephemeral"] != nil, let name = volume["name"]?.string { claims.insert("\(namespace)/\(podName)-\(name)") }
            key(volume[path: ["csi", "nodePublishSecretRef", "name"]]).map { _ = secrets.insert($0) }
            for source in volume[path: ["projected", "sources"]]?.array ?? [] {
                key(source[path: ["secret", "name"]]).map { _ = secrets.insert($0) }
                key(source[path: ["configMap", "name"]]).map { _ = configMaps.insert($0) }
            }
        }
        for containers in ["initContainers", "containers", "ephemeralContainers"] {
            for container in spec[containers]?.array ?? [] {
                for variable in container["env"]?.array ?? [] {
                    key(variable[path: ["valueFrom", "secretKeyRef", "name"]]).map { _ = secrets.insert($0) }
                    key(variable[path: ["valueFrom", "configMapKeyRef", "name"]]).map { _ = configMaps.insert($0) }
                }
                for source in container["envFrom"]?.array ?? [] {
                    key(source[path: ["secretRef", "name"]]).map { _ = secrets.insert($0) }
                    key(source[path: ["configMapRef", "name"]]).map { _ = configMaps.insert($0) }
                }
            }
        }
    }
}
