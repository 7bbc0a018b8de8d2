import KubeModel

/// The ClusterRoles and ClusterRoleBindings every cluster has, as kube-apiserver's bootstrap policy makes them
/// and reconciles them on each start: the user-facing roles (`cluster-admin`, `admin`, `edit`, `view`, the last
/// three aggregated from labelled roles), discovery, basic-user and public-info for everyone, and the roles of
/// the control plane's components.
public enum BootstrapPolicy {
    public struct Role: Sendable {
        public let name: String
        public let rules: [PolicyRule]
        public var labels: [String: String] = [:]
        /// `aggregationRule.clusterRoleSelectors[].matchLabels`: the role's rules are those of the roles they select.
        public var aggregatesFrom: [[String: String]] = []
    }

    public struct Binding: Sendable {
        public enum Subject: Sendable, Equatable {
            case user(String), group(String), serviceAccount(namespace: String, name: String)
        }

        public let name: String
        public let role: String
        public let subjects: [Subject]
    }

    private static let read = UserFacingRoles.readVerbs
    private static func rule(_ groups: [String], _ resources: [String], _ verbs: [String], names: [String] = []) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources, resourceNames: names)
    }
    private static func urls(_ urls: [String], _ verbs: [String] = ["get"]) -> PolicyRule {
        PolicyRule(verbs: verbs, nonResourceURLs: urls)
    }
    private static let eventWrites = rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"])
    private static let aggregateToAdmin = ["rbac.authorization.k8s.io/aggregate-to-admin": "true"]
    private static let aggregateToEdit = ["rbac.authorization.k8s.io/aggregate-to-edit": "true"]
    private static let aggregateToView = ["rbac.authorization.k8s.io/aggregate-to-view": "true"]

    public static let clusterRoles: [Role] = [
        Role(name: "cluster-admin", rules: UserFacingRoles.clusterAdmin),
        Role(name: "admin", rules: [], aggregatesFrom: [aggregateToAdmin]),
        Role(name: "edit", rules: [], labels: aggregateToAdmin, aggregatesFrom: [aggregateToEdit]),
        Role(name: "view", rules: [], labels: aggregateToEdit, aggregatesFrom: [aggregateToView]),
        Role(name: "system:aggregate-to-admin", rules: UserFacingRoles.aggregateToAdmin, labels: aggregateToAdmin),
        Role(name: "system:aggregate-to-edit", rules: UserFacingRoles.aggregateToEdit, labels: aggregateToEdit),
        Role(name: "system:aggregate-to-view", rules: UserFacingRoles.aggregateToView, labels: aggregateToView),
        Role(name: "system:auth-delegator", rules: [
            rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
        ]),
        Role(name: "system:basic-user", rules: [
            rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
            rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
        ]),
        Role(name: "system:discovery", rules: [
            urls(["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]),
        ]),
        Role(name: "system:public-info-viewer", rules: [urls(["/healthz", "/livez", "/readyz", "/version", "/version/"])]),
        Role(name: "system:monitoring", rules: [
            urls(["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics", "/metrics/slis", "/readyz", "/readyz/*"]),
        ]),
        Role(name: "system:service-account-issuer-discovery", rules: [urls(["/.well-known/openid-configuration", "/openid/v1/jwks"])]),
        Role(name: "system:heapster", rules: [
            rule([""], ["events", "namespaces", "nodes", "pods"], read),
            rule(["extensions"], ["deployments"], read),
        ]),
        Role(name: "system:kube-aggregator", rules: [rule([""], ["endpoints", "services"], read)]),
        Role(name: "system:kube-dns", rules: [rule([""], ["endpoints", "services"], ["list", "watch"])]),
        Role(name: "system:kube-controller-manager", rules: [
            eventWrites,
            rule(["coordination.k8s.io"], ["leases"], ["create"]),
            rule(["coordination.k8s.io"], ["leases"], ["get", "update"], names: ["kube-controller-manager"]),
            rule([""], ["secrets", "serviceaccounts"], ["create"]),
            rule([""], ["secrets"], ["delete"]),
            rule([""], ["configmaps", "namespaces", "secrets", "serviceaccounts"], ["get"]),
            rule([""], ["secrets", "serviceaccounts"], ["update"]),
            rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
            rule(["*"], ["*"], ["list", "watch"]),
            rule([""], ["serviceaccounts/token"], ["create"]),
        ]),
        Role(name: "system:kube-scheduler", rules: [
            eventWrites,
            rule(["coordination.k8s.io"], ["leases"], ["create"]),
            rule(["coordination.k8s.io"], ["leases"], ["get", "update"], names: ["kube-scheduler"]),
            rule([""], ["nodes"], read),
            rule([""], ["pods"], ["delete", "get", "list", "watch"]),
            rule([""], ["bindings", "pods/binding"], ["create"]),
            rule([""], ["pods/status"], ["patch", "update"]),
            rule([""], ["replicationcontrollers", "services"], read),
            rule(["apps", "extensions"], ["replicasets"], read),
            rule(["apps"], ["statefulsets"], read),
            rule(["policy"], ["poddisruptionbudgets"], read),
            rule([""], ["persistentvolumeclaims", "persistentvolumes"], read),
            rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
            rule(["storage.k8s.io"], ["csinodes"], read),
            rule([""], ["namespaces"], read),
            rule(["storage.k8s.io"], ["csidrivers"], read),
            rule(["storage.k8s.io"], ["csistoragecapacities"], read),
        ]),
        Role(name: "system:kubelet-api-admin", rules: [
            rule([""], ["nodes"], read),
            rule([""], ["nodes"], ["proxy"]),
            rule([""], ["nodes/log", "nodes/metrics", "nodes/proxy", "nodes/stats"], ["*"]),
        ]),
        Role(name: "system:node", rules: [
            rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
            rule(["authorization.k8s.io"], ["localsubjectaccessreviews", "subjectaccessreviews"], ["create"]),
            rule([""], ["services"], read),
            rule([""], ["nodes"], ["create", "get", "list", "watch"]),
            rule([""], ["nodes/status"], ["patch", "update"]),
            rule([""], ["nodes"], ["patch", "update"]),
            rule([""], ["events"], ["create", "patch", "update"]),
            rule([""], ["pods"], read),
            rule([""], ["pods"], ["create", "delete"]),
            rule([""], ["pods/status"], ["patch", "update"]),
            rule([""], ["pods/eviction"], ["create"]),
            rule([""], ["configmaps", "secrets"], read),
            rule([""], ["persistentvolumeclaims", "persistentvolumes"], ["get"]),
            rule([""], ["endpoints"], ["get"]),
            rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["create", "get", "list", "watch"]),
            rule(["coordination.k8s.io"], ["leases"], ["create", "delete", "get", "patch", "update"]),
            rule(["storage.k8s.io"], ["volumeattachments"], ["get"]),
            rule([""], ["serviceaccounts/token"], ["create"]),
            rule([""], ["persistentvolumeclaims/status"], ["get", "patch", "update"]),
            rule(["storage.k8s.io"], ["csidrivers"], read),
            rule(["storage.k8s.io"], ["csinodes"], ["create", "delete", "get", "patch", "update"]),
            rule(["node.k8s.io"], ["runtimeclasses"], read),
        ]),
        Role(name: "system:node-bootstrapper", rules: [
            rule(["certificates.k8s.io"], ["certificatesigningrequests"], ["create", "get", "list", "watch"]),
        ]),
        Role(name: "system:node-problem-detector", rules: [
            rule([""], ["nodes"], ["get"]),
            rule([""], ["nodes/status"], ["patch"]),
            eventWrites,
        ]),
        Role(name: "system:node-proxier", rules: [
            rule([""], ["endpoints", "services"], ["list", "watch"]),
            rule([""], ["nodes"], read),
            eventWrites,
            rule(["discovery.k8s.io"], ["endpointslices"], ["list", "watch"]),
        ]),
        Role(name: "system:persistent-volume-provisioner", rules: [
            rule([""], ["persistentvolumes"], ["create", "delete", "get", "list", "watch"]),
            rule([""], ["persistentvolumeclaims"], ["get", "list", "update", "watch"]),
            rule(["storage.k8s.io"], ["storageclasses"], read),
            rule([""], ["events"], ["watch"]),
            eventWrites,
        ]),
        Role(name: "system:volume-scheduler", rules: [
            rule([""], ["persistentvolumes"], ["get", "list", "patch", "update", "watch"]),
            rule(["storage.k8s.io"], ["storageclasses"], read),
            rule([""], ["persistentvolumeclaims"], ["get", "list", "patch", "update", "watch"]),
        ]),
        Role(name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient", rules: [
            rule(["certificates.k8s.io"], ["certificatesigningrequests/nodeclient"], ["create"]),
        ]),
        Role(name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", rules: [
            rule(["certificates.k8s.io"], ["certificatesigningrequests/selfnodeclient"], ["create"]),
        ]),
        Role(name: "system:certificates.k8s.io:kube-apiserver-client-approver", rules: [
            rule(["certificates.k8s.io"], ["signers"], ["approve"], names: ["kubernetes.io/kube-apiserver-client"]),
        ]),
        Role(name: "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver", rules: [
            rule(["certificates.k8s.io"], ["signers"], ["approve"], names: ["kubernetes.io/kube-apiserver-client-kubelet"]),
        ]),
        Role(name: "system:certificates.k8s.io:kubelet-serving-approver", rules: [
            rule(["certificates.k8s.io"], ["signers"], ["approve"], names: ["kubernetes.io/kubelet-serving"]),
        ]),
        Role(name: "system:certificates.k8s.io:legacy-unknown-approver", rules: [
            rule(["certificates.k8s.io"], ["signers"], ["approve"], names: ["kubernetes.io/legacy-unknown"]),
        ]),
    ]

    /// The roles of the kube-controller-manager controllers Skiff runs, each bound to its service account in
    /// kube-system (`system:controller:NAME` to `kube-system/NAME`), as with `--use-service-account-credentials`.
    public static let controllerRoles: [Role] = [
        Role(name: "system:controller:clusterrole-aggregation-controller", rules: [
            rule(["rbac.authorization.k8s.io"], ["clusterroles"], ["escalate", "get", "list", "patch", "update", "watch"]),
        ]),
        Role(name: "system:controller:daemon-set-controller", rules: [
            rule(["apps", "extensions"], ["daemonsets"], read),
            rule(["apps", "extensions"], ["daemonsets/status"], ["update"]),
            rule(["apps", "extensions"], ["daemonsets/finalizers"], ["update"]),
            rule([""], ["nodes"], ["list", "watch"]),
            rule([""], ["pods"], ["create", "delete", "list", "patch", "watch"]),
            rule([""], ["pods/binding"], ["create"]),
            rule(["apps"], ["controllerrevisions"], ["create", "delete", "get", "list", "patch", "update", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:deployment-controller", rules: [
            rule(["apps", "extensions"], ["deployments"], ["get", "list", "update", "watch"]),
            rule(["apps", "extensions"], ["deployments/status"], ["update"]),
            rule(["apps", "extensions"], ["deployments/finalizers"], ["update"]),
            rule(["apps", "extensions"], ["replicasets"], ["create", "delete", "get", "list", "patch", "update", "watch"]),
            rule([""], ["pods"], ["get", "list", "update", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:disruption-controller", rules: [
            rule(["apps", "extensions"], ["deployments"], read),
            rule(["apps", "extensions"], ["replicasets"], read),
            rule([""], ["replicationcontrollers"], read),
            rule(["policy"], ["poddisruptionbudgets"], read),
            rule(["apps"], ["statefulsets"], read),
            rule(["policy"], ["poddisruptionbudgets/status"], ["update"]),
            rule([""], ["pods/status"], ["patch", "update"]),
            rule(["*"], ["*/scale"], ["get"]),
            eventWrites,
        ]),
        Role(name: "system:controller:endpoint-controller", rules: [
            rule([""], ["pods", "services"], read),
            rule([""], ["endpoints"], ["create", "delete", "get", "list", "update", "watch"]),
            rule([""], ["endpoints/restricted"], ["create"]),
            eventWrites,
        ]),
        Role(name: "system:controller:endpointslice-controller", rules: [
            rule([""], ["nodes", "pods", "services"], read),
            rule([""], ["services/finalizers"], ["update"]),
            rule(["discovery.k8s.io"], ["endpointslices"], ["create", "delete", "get", "list", "update", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:generic-garbage-collector", rules: [
            rule(["*"], ["*"], ["delete", "get", "list", "patch", "update", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:namespace-controller", rules: [
            rule([""], ["namespaces"], ["delete", "get", "list", "watch"]),
            rule([""], ["namespaces/finalize", "namespaces/status"], ["update"]),
            rule(["*"], ["*"], ["delete", "deletecollection", "get", "list", "watch"]),
        ]),
        Role(name: "system:controller:node-controller", rules: [
            rule([""], ["nodes"], ["delete", "get", "list", "patch", "update", "watch"]),
            rule([""], ["nodes/status"], ["patch", "update"]),
            rule([""], ["pods/status"], ["patch", "update"]),
            rule([""], ["pods"], ["delete", "get", "list", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:pod-garbage-collector", rules: [
            rule([""], ["pods"], ["delete", "list", "watch"]),
            rule([""], ["nodes"], read),
            rule([""], ["pods/status"], ["patch"]),
        ]),
        Role(name: "system:controller:replicaset-controller", rules: [
            rule(["apps", "extensions"], ["replicasets"], ["get", "list", "update", "watch"]),
            rule(["apps", "extensions"], ["replicasets/status"], ["update"]),
            rule(["apps", "extensions"], ["replicasets/finalizers"], ["update"]),
            rule([""], ["pods"], ["create", "delete", "list", "patch", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:replication-controller", rules: [
            rule([""], ["replicationcontrollers"], ["get", "list", "update", "watch"]),
            rule([""], ["replicationcontrollers/status"], ["update"]),
            rule([""], ["replicationcontrollers/finalizers"], ["update"]),
            rule([""], ["pods"], ["create", "delete", "list", "patch", "watch"]),
            eventWrites,
        ]),
        Role(name: "system:controller:resourcequota-controller", rules: [
            rule(["*"], ["*"], ["list", "watch"]),
            rule([""], ["resourcequotas/status"], ["update"]),
            eventWrites,
        ]),
        Role(name: "system:controller:root-ca-cert-publisher", rules: [
            rule([""], ["configmaps"], ["create", "update"]),
            eventWrites,
        ]),
        Role(name: "system:controller:service-account-controller", rules: [
            rule([""], ["serviceaccounts"], ["create"]),
            eventWrites,
        ]),
    ]

    public static var controllerRoleBindings: [Binding] {
        controllerRoles.map { role in
            Binding(name: role.name, role: role.name,
                    subjects: [.serviceAccount(namespace: "kube-system", name: String(role.name.dropFirst("system:controller:".count)))])
        }
    }

    public static let clusterRoleBindings: [Binding] = [
        Binding(name: "cluster-admin", role: "cluster-admin", subjects: [.group("system:masters")]),
        Binding(name: "system:basic-user", role: "system:basic-user", subjects: [.group("system:authenticated")]),
        Binding(name: "system:discovery", role: "system:discovery", subjects: [.group("system:authenticated")]),
        Binding(name: "system:public-info-viewer", role: "system:public-info-viewer",
                subjects: [.group("system:authenticated"), .group("system:unauthenticated")]),
        Binding(name: "system:monitoring", role: "system:monitoring", subjects: [.group("system:monitoring")]),
        Binding(name: "system:service-account-issuer-discovery", role: "system:service-account-issuer-discovery",
                subjects: [.group("system:serviceaccounts")]),
        Binding(name: "system:kube-controller-manager", role: "system:kube-controller-manager", subjects: [.user("system:kube-controller-manager")]),
        Binding(name: "system:kube-scheduler", role: "system:kube-scheduler", subjects: [.user("system:kube-scheduler")]),
        Binding(name: "system:volume-scheduler", role: "system:volume-scheduler", subjects: [.user("system:kube-scheduler")]),
        Binding(name: "system:kube-dns", role: "system:kube-dns", subjects: [.serviceAccount(namespace: "kube-system", name: "kube-dns")]),
        Binding(name: "system:node-proxier", role: "system:node-proxier", subjects: [.user("system:kube-proxy")]),
        Binding(name: "system:node", role: "system:node", subjects: []),
    ]

    static let bootstrapLabels: JSON = ["kubernetes.io/bootstrapping": "rbac-defaults"]
    static let autoupdate = "rbac.authorization.kubernetes.io/autoupdate"

    static func json(_ rule: PolicyRule) -> JSON {
        func strings(_ values: [String]) -> JSON { .array(values.map(JSON.string)) }
        var object: JSON = ["verbs": strings(rule.verbs)]
        if !rule.nonResourceURLs.isEmpty {
            object["nonResourceURLs"] = strings(rule.nonResourceURLs)
            return object
        }
        object["apiGroups"] = strings(rule.apiGroups)
        object["resources"] = strings(rule.resources)
        if !rule.resourceNames.isEmpty { object["resourceNames"] = strings(rule.resourceNames) }
        return object
    }

    static func json(_ role: Role) -> JSON {
        var labels = bootstrapLabels
        for (key, value) in role.labels { labels[key] = .string(value) }
        var object: JSON = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": ["name": .string(role.name), "labels": labels, "annotations": [autoupdate: "true"]],
            "rules": .array(role.rules.map(json)),
        ]
        if !role.aggregatesFrom.isEmpty {
            object["aggregationRule"] = ["clusterRoleSelectors": .array(role.aggregatesFrom.map {
                ["matchLabels": .object($0.mapValues(JSON.string))]
            })]
        }
        return object
    }

    static func json(_ subject: Binding.Subject) -> JSON {
        switch subject {
        case .user(let name): ["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": .string(name)]
        case .group(let name): ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string(name)]
        case .serviceAccount(let namespace, let name): ["kind": "ServiceAccount", "name": .string(name), "namespace": .string(namespace)]
        }
    }

    static func json(_ binding: Binding) -> JSON {
        var object: JSON = [
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": ["name": .string(binding.name), "labels": bootstrapLabels, "annotations": [autoupdate: "true"]],
            "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(binding.role)],
        ]
        if !binding.subjects.isEmpty { object["subjects"] = .array(binding.subjects.map(json)) }
        return object
    }

    /// Creates the bootstrap roles and bindings that are missing, and gives those whose autoupdate annotation is not
    /// `false` back any rule or subject they lost, as kube-apiserver reconciles them on start (what was added stays).
    static func reconcile(_ registry: Registry) async throws {
        guard let roles = registry.resources.find(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles"),
              let bindings = registry.resources.find(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings")
        else { return }
        for role in clusterRoles + controllerRoles {
            try await ensure(registry, roles, json(role), listKey: "rules")
        }
        for binding in clusterRoleBindings + controllerRoleBindings {
            try await ensure(registry, bindings, json(binding), listKey: "subjects")
        }
    }

    private static func ensure(_ registry: Registry, _ resource: ResourceType, _ wanted: JSON, listKey: String) async throws {
        let name = wanted.name
        let current: JSON
        do {
            current = try await registry.get(resource, namespace: nil, name: name)
        } catch let error as APIError where error.code == 404 {
            do {
                _ = try await registry.create(resource, namespace: nil, body: wanted)
            } catch let error as APIError where error.reason == "AlreadyExists" {}
            return
        }
        guard current[path: ["metadata", "annotations", autoupdate]]?.string != "false" else { return }
        let have = current[listKey]?.array ?? []
        let missing = (wanted[listKey]?.array ?? []).filter { !have.contains($0) }
        // Aggregated roles' rules belong to the aggregation controller; their selectors are reconciled.
        let aggregation = wanted["aggregationRule"]
        guard !missing.isEmpty || (aggregation != nil && current["aggregationRule"] != aggregation) else { return }
        var updated = current
        if aggregation == nil || listKey != "rules" {
            updated[listKey] = .array(have + missing)
        }
        if let aggregation { updated["aggregationRule"] = aggregation }
        _ = try await registry.update(resource, namespace: nil, name: name, body: updated)
    }
}
