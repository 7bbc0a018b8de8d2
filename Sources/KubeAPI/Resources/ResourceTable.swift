import KubeModel

/// Every resource the API server serves, in one table that routing,
/// discovery, OpenAPI and RBAC all read. Adding a kind adds a row here.
public struct ResourceTable: Sendable {
    public private(set) var all: [ResourceType]
    /// Changes with every change to the table, so documents derived from it can be cached.
    public private(set) var revision = 0

    public init(_ resources: [ResourceType]) {
        all = resources
    }

    /// The resource a request names by group, version and plural.
    public func find(group: String, version: String, resource: String) -> ResourceType? {
        all.first { $0.group == group && $0.version == version && $0.resource == resource }
    }

    public func find(group: String, kind: String) -> ResourceType? {
        all.first { $0.group == group && $0.kind == kind }
    }

    /// Group versions in the order discovery lists them (the legacy core group apart).
    public var groups: [(name: String, versions: [String])] {
        var order: [String] = [], versions: [String: [String]] = [:]
        for resource in all where !resource.group.isEmpty {
            if versions[resource.group] == nil { order.append(resource.group) }
            if !(versions[resource.group] ?? []).contains(resource.version) { versions[resource.group, default: []].append(resource.version) }
        }
        return order.map { ($0, versions[$0] ?? []) }
    }

    public mutating func add(_ resource: ResourceType) {
        all.removeAll { $0.group == resource.group && $0.version == resource.version && $0.resource == resource.resource }
        all.append(resource)
        revision += 1
    }

    public mutating func remove(group: String, resource: String) {
        all.removeAll { $0.group == group && $0.resource == resource }
        revision += 1
    }

    /// The kinds a Kubernetes 1.3x API server serves, with the versions real clusters serve.
    /// The built-in resources a cluster of Kubernetes `minor` (`1.31`) serves: without the versions removed by then.
    public static func builtIn(kubernetesMinor minor: String) -> ResourceTable {
        ResourceTable(builtIn.all.filter { resource in
            resource.deprecation.map { APIDeprecation.minor(minor, isBefore: $0.removedIn) } ?? true
        })
    }

    public static let builtIn = ResourceTable([
        ResourceType(group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"],
                     nameRule: .label, subresources: ["status", "finalize"], strategy: NamespaceStrategy()),
        ResourceType(group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], categories: ["all"],
                     subresources: ["status", "binding", "eviction", "log", "exec", "attach", "portforward"], strategy: PodStrategy()),
        ResourceType(group: "", version: "v1", resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"],
                     categories: ["all"], nameRule: .label, subresources: ["status"], strategy: ServiceStrategy()),
        ResourceType(group: "", version: "v1", resource: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"],
                     strategy: PrintColumns.endpoints),
        ResourceType(group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"],
                     strategy: ConfigMapStrategy()),
        ResourceType(group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, strategy: SecretStrategy()),
        ResourceType(group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"],
                     subresources: ["token"], strategy: ServiceAccountStrategy()),
        ResourceType(group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"],
                     subresources: ["status"], strategy: NodeStrategy()),
        ResourceType(group: "", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"], strategy: EventStrategy()),
        ResourceType(group: "", version: "v1", resource: "limitranges", kind: "LimitRange", namespaced: true, shortNames: ["limits"],
                     strategy: PrintColumns.nameAndCreated()),
        ResourceType(group: "", version: "v1", resource: "resourcequotas", kind: "ResourceQuota", namespaced: true, shortNames: ["quota"],
                     subresources: ["status"], strategy: PrintColumns.resourceQuota),
        ResourceType(group: "", version: "v1", resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"],
                     subresources: ["status"], strategy: PrintColumns.persistentVolume),
        ResourceType(group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true,
                     shortNames: ["pvc"], subresources: ["status"], strategy: PrintColumns.persistentVolumeClaim),
        ResourceType(group: "", version: "v1", resource: "replicationcontrollers", kind: "ReplicationController", namespaced: true,
                     shortNames: ["rc"], categories: ["all"], subresources: ["status", "scale"], strategy: ReplicationControllerStrategy()),
        ResourceType(group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"],
                     categories: ["all"], subresources: ["status", "scale"], strategy: DeploymentStrategy()),
        ResourceType(group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"],
                     categories: ["all"], subresources: ["status", "scale"], strategy: ReplicaSetStrategy()),
        ResourceType(group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"],
                     categories: ["all"], subresources: ["status", "scale"], strategy: StatefulSetStrategy()),
        ResourceType(group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"],
                     categories: ["all"], subresources: ["status"], strategy: DaemonSetStrategy()),
        ResourceType(group: "apps", version: "v1", resource: "controllerrevisions", kind: "ControllerRevision", namespaced: true,
                     strategy: PrintColumns.controllerRevision),
        ResourceType(group: "batch", version: "v1", resource: "jobs", kind: "Job", namespaced: true, categories: ["all"],
                     subresources: ["status"], strategy: JobStrategy()),
        ResourceType(group: "batch", version: "v1", resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: ["cj"],
                     categories: ["all"], subresources: ["status"], strategy: CronJobStrategy()),
        ResourceType(group: "autoscaling", version: "v2", resource: "horizontalpodautoscalers", kind: "HorizontalPodAutoscaler",
                     namespaced: true, shortNames: ["hpa"], categories: ["all"], subresources: ["status"],
                     strategy: PrintColumns.horizontalPodAutoscaler),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true,
                     nameRule: .pathSegment, strategy: RoleStrategy(clusterScoped: false)),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true,
                     nameRule: .pathSegment, strategy: RoleBindingStrategy(clusterScoped: false)),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false,
                     nameRule: .pathSegment, strategy: RoleStrategy(clusterScoped: true)),
        ResourceType(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding",
                     namespaced: false, nameRule: .pathSegment, strategy: RoleBindingStrategy(clusterScoped: true)),
        ResourceType(group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true,
                     strategy: PrintColumns.lease),
        ResourceType(group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice", namespaced: true,
                     strategy: PrintColumns.endpointSlice),
        ResourceType(group: "networking.k8s.io", version: "v1", resource: "networkpolicies", kind: "NetworkPolicy", namespaced: true,
                     shortNames: ["netpol"], strategy: PrintColumns.networkPolicy),
        ResourceType(group: "networking.k8s.io", version: "v1", resource: "ingresses", kind: "Ingress", namespaced: true, shortNames: ["ing"],
                     subresources: ["status"], strategy: PrintColumns.ingress),
        ResourceType(group: "networking.k8s.io", version: "v1", resource: "ingressclasses", kind: "IngressClass", namespaced: false,
                     strategy: PrintColumns.ingressClass),
        ResourceType(group: "policy", version: "v1", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true,
                     shortNames: ["pdb"], subresources: ["status"], strategy: PrintColumns.podDisruptionBudget),
        ResourceType(group: "storage.k8s.io", version: "v1", resource: "storageclasses", kind: "StorageClass", namespaced: false,
                     shortNames: ["sc"], strategy: PrintColumns.storageClass),
        ResourceType(group: "storage.k8s.io", version: "v1", resource: "csidrivers", kind: "CSIDriver", namespaced: false,
                     strategy: PrintColumns.nameAndCreated()),
        ResourceType(group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"],
                     strategy: EventStrategy()),
        // API Priority and Fairness: v1, and v1beta3 beside it (stored as v1) on the minors before 1.32.
        ResourceType(group: "flowcontrol.apiserver.k8s.io", version: "v1", resource: "flowschemas", kind: "FlowSchema", namespaced: false,
                     subresources: ["status"], strategy: PrintColumns.nameAndCreated(hasStatus: true)),
        ResourceType(group: "flowcontrol.apiserver.k8s.io", version: "v1", resource: "prioritylevelconfigurations",
                     kind: "PriorityLevelConfiguration", namespaced: false, subresources: ["status"],
                     strategy: PrintColumns.nameAndCreated(hasStatus: true)),
        ResourceType(group: "flowcontrol.apiserver.k8s.io", version: "v1beta3", resource: "flowschemas", kind: "FlowSchema", namespaced: false,
                     subresources: ["status"], strategy: PrintColumns.nameAndCreated(hasStatus: true), storageVersion: "v1"),
        ResourceType(group: "flowcontrol.apiserver.k8s.io", version: "v1beta3", resource: "prioritylevelconfigurations",
                     kind: "PriorityLevelConfiguration", namespaced: false, subresources: ["status"],
                     strategy: PrintColumns.nameAndCreated(hasStatus: true), storageVersion: "v1"),
        ResourceType(group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition",
                     namespaced: false, shortNames: ["crd", "crds"], categories: ["api-extensions"], subresources: ["status"],
                     strategy: CustomResourceDefinitionStrategy()),
        ResourceType(group: "authentication.k8s.io", version: "v1", resource: "selfsubjectreviews", kind: "SelfSubjectReview",
                     namespaced: false, verbs: ["create"]),
        ResourceType(group: "authentication.k8s.io", version: "v1", resource: "tokenreviews", kind: "TokenReview",
                     namespaced: false, verbs: ["create"]),
        ResourceType(group: "authorization.k8s.io", version: "v1", resource: "localsubjectaccessreviews", kind: "LocalSubjectAccessReview",
                     namespaced: true, verbs: ["create"]),
        ResourceType(group: "authorization.k8s.io", version: "v1", resource: "selfsubjectaccessreviews", kind: "SelfSubjectAccessReview",
                     namespaced: false, verbs: ["create"]),
        ResourceType(group: "authorization.k8s.io", version: "v1", resource: "selfsubjectrulesreviews", kind: "SelfSubjectRulesReview",
                     namespaced: false, verbs: ["create"]),
        ResourceType(group: "authorization.k8s.io", version: "v1", resource: "subjectaccessreviews", kind: "SubjectAccessReview",
                     namespaced: false, verbs: ["create"]),
    ])
}
