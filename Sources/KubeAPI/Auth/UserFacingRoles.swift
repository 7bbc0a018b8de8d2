/// The rules of Kubernetes' user-facing ClusterRoles, as the bootstrap policy aggregates them: `view` reads
/// what is not secret, `edit` also writes it (and reads Secrets), `admin` also manages Roles and RoleBindings
/// in a namespace, `cluster-admin` does anything. EKS's access policies of the same names carry these rules.
public enum UserFacingRoles {
    static let readVerbs = ["get", "list", "watch"]
    static let writeVerbs = ["create", "delete", "deletecollection", "patch", "update"]

    static func rule(_ groups: [String], _ resources: [String], _ verbs: [String]) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources)
    }

    public static let clusterAdmin: [PolicyRule] = [
        rule(["*"], ["*"], ["*"]),
        PolicyRule(verbs: ["*"], nonResourceURLs: ["*"]),
    ]

    /// `system:aggregate-to-view`: all that `view` grants.
    public static let aggregateToView: [PolicyRule] = [
        rule([""], ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                    "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"], readVerbs),
        rule([""], ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                    "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], readVerbs),
        rule([""], ["namespaces"], readVerbs),
        rule(["discovery.k8s.io"], ["endpointslices"], readVerbs),
        rule(["apps"], ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                        "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                        "statefulsets/scale", "statefulsets/status"], readVerbs),
        rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], readVerbs),
        rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], readVerbs),
        rule(["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
                              "ingresses", "ingresses/status", "networkpolicies", "replicasets", "replicasets/scale",
                              "replicasets/status", "replicationcontrollers/scale"], readVerbs),
        rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], readVerbs),
        rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], readVerbs),
    ]

    /// `system:aggregate-to-edit`: what `edit` adds to `view`.
    public static let aggregateToEdit: [PolicyRule] = [
        rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], readVerbs),
        rule([""], ["serviceaccounts"], ["impersonate"]),
        rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], writeVerbs),
        rule([""], ["pods/eviction"], ["create"]),
        rule([""], ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers", "replicationcontrollers/scale",
                    "secrets", "serviceaccounts", "services", "services/proxy"], writeVerbs),
        rule([""], ["serviceaccounts/token"], ["create"]),
        rule(["apps"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                        "replicasets/scale", "statefulsets", "statefulsets/scale"], writeVerbs),
        rule(["autoscaling"], ["horizontalpodautoscalers"], writeVerbs),
        rule(["batch"], ["cronjobs", "jobs"], writeVerbs),
        rule(["extensions"], ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "ingresses",
                              "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"], writeVerbs),
        rule(["policy"], ["poddisruptionbudgets"], writeVerbs),
        rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], writeVerbs),
        rule(["coordination.k8s.io"], ["leases"], readVerbs + writeVerbs),
    ]

    /// `system:aggregate-to-admin`: what `admin` adds to `edit`.
    public static let aggregateToAdmin: [PolicyRule] = [
        rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
        rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], readVerbs + writeVerbs),
    ]

    public static let view = aggregateToView
    public static let edit = aggregateToEdit + view
    public static let admin = aggregateToAdmin + edit

    /// Reads of every resource, Secrets included (EKS's `AmazonEKSAdminViewPolicy`).
    public static let readEverything: [PolicyRule] = [rule(["*"], ["*"], readVerbs)]
}
