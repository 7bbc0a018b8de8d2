import KubeModel
import Synchronization

/// Role-based access control as Kubernetes evaluates it, from the API server's own watch caches of Roles,
/// ClusterRoles, RoleBindings and ClusterRoleBindings: no store read per request. Each change of one of
/// them rebuilds an immutable snapshot, indexed by subject, that requests read under a lock. Like kube-apiserver's
/// RBAC authorizer it follows its informers, so a binding takes effect as soon as its cache has it (a moment
/// after the write).
public final class RBACAuthorizer: Authorizer {
    struct Binding: Sendable {
        enum RoleKind: Sendable { case role, clusterRole }
        let roleKind: RoleKind
        let roleName: String
        /// `user:NAME` and `group:NAME`; a service account subject is the user it authenticates as.
        let subjects: [String]
    }

    /// Everything RBAC decides from, parsed once per change.
    struct Snapshot: Sendable {
        var clusterRoles: [String: [PolicyRule]] = [:]
        /// By `namespace/name`.
        var roles: [String: [PolicyRule]] = [:]
        var clusterRoleBindings: [String: Binding] = [:]
        var roleBindings: [String: (namespace: String, binding: Binding)] = [:]
        /// Derived: subject → the ClusterRoles bound to it cluster-wide.
        var clusterGrants: [String: [String]] = [:]
        /// Derived: namespace → subject → bindings there.
        var namespaceGrants: [String: [String: [Binding]]] = [:]

        mutating func reindex() {
            clusterGrants = [:]
            for binding in clusterRoleBindings.values where binding.roleKind == .clusterRole {
                for subject in binding.subjects { clusterGrants[subject, default: []].append(binding.roleName) }
            }
            namespaceGrants = [:]
            for (namespace, binding) in roleBindings.values {
                for subject in binding.subjects { namespaceGrants[namespace, default: [:]][subject, default: []].append(binding) }
            }
        }

        /// Each rule that applies to the subjects in `namespace` (nil: only the cluster-wide ones), with the
        /// binding that grants it, until `visit` returns true.
        func visitRules(subjects: [String], namespace: String?, _ visit: (PolicyRule, String) -> Bool) -> Bool {
            for subject in subjects {
                for role in clusterGrants[subject] ?? [] {
                    for rule in clusterRoles[role] ?? [] where visit(rule, "ClusterRole \"\(role)\"") { return true }
                }
            }
            guard let namespace, !namespace.isEmpty, let grants = namespaceGrants[namespace] else { return false }
            for subject in subjects {
                for binding in grants[subject] ?? [] {
                    let rules = binding.roleKind == .clusterRole ? clusterRoles[binding.roleName] : roles["\(namespace)/\(binding.roleName)"]
                    let name = binding.roleKind == .clusterRole ? "ClusterRole" : "Role"
                    for rule in rules ?? [] where visit(rule, "\(name) \"\(binding.roleName)\"") { return true }
                }
            }
            return false
        }
    }

    private let snapshot = Mutex(Snapshot())
    private let loaded = Mutex(false)
    private let resources: [CachedResource]
    private let following: Mutex<[Task<Void, Never>]> = Mutex([])

    public init(registry: Registry) {
        resources = ["roles", "rolebindings", "clusterroles", "clusterrolebindings"].compactMap { name in
            registry.resources.find(group: "rbac.authorization.k8s.io", version: "v1", resource: name)
                .map { CachedResource(registry: registry, resource: $0) }
        }
        if resources.isEmpty { loaded.withLock { $0 = true } }
        let tasks = resources.map { resource in Task<Void, Never> { [weak self] in await self?.follow(resource) } }
        following.withLock { $0 = tasks }
        registry.onShutdown { [weak self] in self?.stop() }
    }

    func stop() {
        for task in following.withLock({ $0 }) { task.cancel() }
    }

    /// Keeps the snapshot in step with one resource's cache, starting over whenever the cache does.
    private func follow(_ resource: CachedResource) async {
        while !Task.isCancelled {
            guard let subscription = await resource.subscribe() else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let initial = subscription.initial.compactMap { key in resource.get(key).map { (key, $0) } }
            snapshot.withLock { snapshot in
                Self.replaceAll(resource.resource.resource, with: initial, in: &snapshot)
                snapshot.reindex()
            }
            markLoaded(resource.resource.resource)
            for await event in subscription.events {
                snapshot.withLock { snapshot in
                    Self.apply(resource.resource.resource, key: event.key, object: event.kind == .deleted ? nil : event.object, to: &snapshot)
                    snapshot.reindex()
                }
            }
        }
    }

    private let loadedResources = Mutex<Set<String>>([])

    private func markLoaded(_ resource: String) {
        let all = loadedResources.withLock { loaded in
            loaded.insert(resource)
            return loaded.count == resources.count
        }
        if all { loaded.withLock { $0 = true } }
    }

    /// Requests that arrive before the caches have loaded wait for them (a few seconds at most) rather than being refused.
    private func current() async -> Snapshot {
        var delay = Duration.microseconds(500), waited = Duration.zero
        while !loaded.withLock({ $0 }), !Task.isCancelled, waited < .seconds(5) {
            try? await Task.sleep(for: delay)
            waited += delay
            delay = min(delay * 2, .milliseconds(50))
        }
        return snapshot.withLock { $0 }
    }

    static func replaceAll(_ resource: String, with objects: [(ObjectKey, JSON)], in snapshot: inout Snapshot) {
        switch resource {
        case "roles": snapshot.roles = [:]
        case "rolebindings": snapshot.roleBindings = [:]
        case "clusterroles": snapshot.clusterRoles = [:]
        default: snapshot.clusterRoleBindings = [:]
        }
        for (key, object) in objects { apply(resource, key: key, object: object, to: &snapshot) }
    }

    static func apply(_ resource: String, key: ObjectKey, object: JSON?, to snapshot: inout Snapshot) {
        let namespaced = "\(key.namespace ?? "")/\(key.name)"
        switch resource {
        case "roles": snapshot.roles[namespaced] = object.map(rules)
        case "clusterroles": snapshot.clusterRoles[key.name] = object.map(rules)
        case "rolebindings": snapshot.roleBindings[namespaced] = object.flatMap(binding).map { (key.namespace ?? "", $0) }
        default: snapshot.clusterRoleBindings[key.name] = object.flatMap(binding)
        }
    }

    public static func rules(_ role: JSON) -> [PolicyRule] {
        (role["rules"]?.array ?? []).map { rule in
            func strings(_ key: String) -> [String] { (rule[key]?.array ?? []).compactMap(\.string) }
            return PolicyRule(verbs: strings("verbs"), apiGroups: strings("apiGroups"), resources: strings("resources"),
                              resourceNames: strings("resourceNames"), nonResourceURLs: strings("nonResourceURLs"))
        }
    }

    static func binding(_ object: JSON) -> Binding? {
        guard let name = object[path: ["roleRef", "name"]]?.string else { return nil }
        let kind: Binding.RoleKind = object[path: ["roleRef", "kind"]]?.string == "Role" ? .role : .clusterRole
        let subjects: [String] = (object["subjects"]?.array ?? []).compactMap { subject in
            guard let name = subject["name"]?.string else { return nil }
            switch subject["kind"]?.string {
            case "User": return "user:\(name)"
            case "Group": return "group:\(name)"
            case "ServiceAccount":
                // A subject without a namespace names one in the binding's own namespace.
                let namespace = subject["namespace"]?.string ?? object.namespace ?? ""
                return "user:system:serviceaccount:\(namespace):\(name)"
            default: return nil
            }
        }
        return Binding(roleKind: kind, roleName: name, subjects: subjects)
    }

    static func subjects(of user: UserInfo) -> [String] {
        ["user:\(user.name)"] + user.groups.map { "group:\($0)" }
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        let snapshot = await current()
        var reason = ""
        let allowed = snapshot.visitRules(subjects: Self.subjects(of: request.user), namespace: request.resource?.namespace) { rule, role in
            guard rule.allows(request) else { return false }
            reason = "RBAC: allowed by \(role)"
            return true
        }
        return AuthorizationDecision(allowed: allowed, reason: reason)
    }

    public func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules {
        AuthorizationRules(await policyRules(for: user, namespace: namespace))
    }

    /// Every rule the user holds in `namespace` (empty: the cluster-wide ones only).
    public func policyRules(for user: UserInfo, namespace: String) async -> [PolicyRule] {
        let snapshot = await current()
        var rules: [PolicyRule] = []
        _ = snapshot.visitRules(subjects: Self.subjects(of: user), namespace: namespace) { rule, _ in
            rules.append(rule)
            return false
        }
        return rules
    }
}
