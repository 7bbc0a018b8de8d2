import EKS
import KubeAPI

/// The Kubernetes rules of each EKS access policy. The four user-facing ones are Kubernetes' user-facing
/// roles; the rest grant what the EKS feature they serve needs, as EKS's published tables list it.
enum AccessPolicyRules {
    private static let read = ["get", "list", "watch"]
    private static let write = ["create", "delete", "deletecollection", "patch", "update"]
    private static let all = read + write

    private static func rule(_ groups: [String], _ resources: [String], _ verbs: [String]) -> PolicyRule {
        PolicyRule(verbs: verbs, apiGroups: groups, resources: resources)
    }

    /// Leader election and its events, for the EKS components that run beside the control plane.
    private static let leaderElection = [
        rule(["coordination.k8s.io"], ["leases"], all),
        rule(["", "events.k8s.io"], ["events"], ["create", "patch", "update"]),
    ]

    /// Worked out once: the authorizer asks on every request.
    private static let byPolicy = Dictionary(uniqueKeysWithValues: AccessPolicies.names.map { ($0, composeRules(of: $0)) })

    static func rules(ofPolicy name: String) -> [PolicyRule] { byPolicy[name] ?? [] }

    private static func composeRules(of name: String) -> [PolicyRule] {
        switch name {
        case "AmazonEKSClusterAdminPolicy": UserFacingRoles.clusterAdmin
        case "AmazonEKSAdminPolicy": UserFacingRoles.admin
        case "AmazonEKSEditPolicy": UserFacingRoles.edit
        case "AmazonEKSViewPolicy": UserFacingRoles.view
        case "AmazonEKSAdminViewPolicy": UserFacingRoles.readEverything
        case "AmazonEKSAutoNodePolicy": BootstrapPolicy.clusterRoles.first { $0.name == "system:node" }?.rules ?? []
        case "AmazonEKSBlockStoragePolicy", "AmazonEKSComputePolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy",
             "AmazonSagemakerHyperpodControllerPolicy":
            leaderElection + [rule([""], ["nodes", "pods"], read)]
        case "AmazonEKSBlockStorageClusterPolicy":
            leaderElection + [
                rule([""], ["persistentvolumes"], all),
                rule([""], ["persistentvolumeclaims", "nodes", "pods"], read),
                rule([""], ["persistentvolumeclaims/status"], ["patch", "update"]),
                rule(["storage.k8s.io"], ["csidrivers", "csinodes", "storageclasses", "volumeattachments", "volumeattachments/status"], all),
            ]
        case "AmazonEKSComputeClusterPolicy":
            leaderElection + [
                rule([""], ["nodes", "nodes/status"], all),
                rule([""], ["pods", "namespaces", "persistentvolumes", "persistentvolumeclaims"], read),
                rule([""], ["pods/eviction"], ["create"]),
                rule(["apps"], ["daemonsets", "replicasets", "statefulsets"], read),
                rule(["policy"], ["poddisruptionbudgets"], read),
                rule(["storage.k8s.io"], ["csinodes", "storageclasses", "volumeattachments"], read),
            ]
        case "AmazonEKSLoadBalancingClusterPolicy":
            leaderElection + [
                rule([""], ["services", "endpoints", "nodes", "pods", "namespaces"], read),
                rule([""], ["services", "services/status"], ["patch", "update"]),
                rule(["discovery.k8s.io"], ["endpointslices"], read),
                rule(["networking.k8s.io"], ["ingresses", "ingressclasses"], read),
                rule(["networking.k8s.io"], ["ingresses", "ingresses/status"], ["patch", "update"]),
            ]
        case "AmazonEKSNetworkingClusterPolicy":
            leaderElection + [
                rule([""], ["nodes", "pods", "namespaces", "services", "endpoints"], read),
                rule([""], ["nodes", "pods"], ["patch"]),
                rule(["networking.k8s.io"], ["networkpolicies"], read),
                rule(["discovery.k8s.io"], ["endpointslices"], read),
            ]
        case "AmazonEKSHybridPolicy": [rule([""], ["nodes"], ["list"])]
        case "AmazonEKSClusterInsightsPolicy", "AmazonAIOpsAssistantPolicy":
            UserFacingRoles.view + [rule([""], ["nodes", "persistentvolumes"], read), rule(["storage.k8s.io"], ["storageclasses"], read)]
        case "AmazonARCRegionSwitchScalingPolicy":
            [
                rule(["apps"], ["deployments", "statefulsets"], read),
                rule(["apps"], ["deployments/scale", "statefulsets/scale"], ["get", "patch", "update"]),
                rule(["autoscaling"], ["horizontalpodautoscalers"], read + ["patch", "update"]),
            ]
        case "AmazonEMRJobPolicy":
            [
                rule([""], ["configmaps", "events", "persistentvolumeclaims", "pods", "pods/log", "secrets", "serviceaccounts", "services"], all),
                rule(["apps"], ["deployments", "statefulsets"], all),
                rule(["batch"], ["jobs"], all),
                rule(["networking.k8s.io"], ["ingresses"], all),
                rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], all),
            ]
        case "AmazonSagemakerHyperpodClusterPolicy":
            [rule([""], ["nodes", "pods", "namespaces", "events"], read), rule([""], ["nodes"], ["patch", "update"])]
        case "AmazonSagemakerHyperpodSystemNamespacePolicy": [rule(["*"], ["*"], ["*"])]
        default: []
        }
    }
}
