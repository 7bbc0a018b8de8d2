import Foundation

/// An access entry as `DescribeAccessEntry` returns it: an IAM principal and the Kubernetes user and
/// groups it becomes on one cluster.
public struct AccessEntry: Codable, Sendable, Equatable {
    public var clusterName: String
    public var principalArn: String
    public var kubernetesGroups: [String]
    public var accessEntryArn: String
    public var createdAt: Date
    public var modifiedAt: Date
    public var tags: [String: String]
    public var username: String
    public var type: String
}

public struct AccessScope: Codable, Sendable, Equatable {
    public enum ScopeType: String, Codable, Sendable { case cluster, namespace }
    public var type: ScopeType?
    public var namespaces: [String]?
}

public struct AssociatedAccessPolicy: Codable, Sendable, Equatable {
    public var policyArn: String
    public var accessScope: AccessScope
    public var associatedAt: Date
    public var modifiedAt: Date
}

public struct AccessPolicy: Codable, Sendable, Equatable {
    public var name: String
    public var arn: String
}

/// The access policies EKS manages, as `ListAccessPolicies` lists them; their Kubernetes rules live with the
/// cluster's authorizer.
public enum AccessPolicies {
    public static let clusterAdmin = "AmazonEKSClusterAdminPolicy"
    public static let names = [
        "AmazonAIOpsAssistantPolicy", "AmazonARCRegionSwitchScalingPolicy", "AmazonEKSAdminPolicy", "AmazonEKSAdminViewPolicy",
        "AmazonEKSAutoNodePolicy", "AmazonEKSBlockStorageClusterPolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSClusterAdminPolicy",
        "AmazonEKSClusterInsightsPolicy", "AmazonEKSComputeClusterPolicy", "AmazonEKSComputePolicy", "AmazonEKSEditPolicy",
        "AmazonEKSHybridPolicy", "AmazonEKSLoadBalancingClusterPolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingClusterPolicy",
        "AmazonEKSNetworkingPolicy", "AmazonEKSViewPolicy", "AmazonEMRJobPolicy", "AmazonSagemakerHyperpodClusterPolicy",
        "AmazonSagemakerHyperpodControllerPolicy", "AmazonSagemakerHyperpodSystemNamespacePolicy",
    ]
    /// Reserved for EKS Auto Mode's own service-linked roles.
    public static let serviceLinkedRolesOnly: Set = ["AmazonEKSBlockStorageClusterPolicy", "AmazonEKSComputeClusterPolicy"]
    /// Policies whose scope can only be the whole cluster.
    public static let clusterScopeOnly: Set = [
        "AmazonEKSAutoNodePolicy", "AmazonEKSBlockStorageClusterPolicy", "AmazonEKSClusterInsightsPolicy", "AmazonEKSComputeClusterPolicy",
        "AmazonEKSHybridPolicy", "AmazonEKSLoadBalancingClusterPolicy", "AmazonEKSNetworkingClusterPolicy",
        "AmazonSagemakerHyperpodClusterPolicy",
    ]
    /// The access-entry type each policy is for: Auto Mode's node policy goes to `EC2` entries, the rest to `STANDARD` ones.
    public static func entryType(of name: String) -> String { name == "AmazonEKSAutoNodePolicy" ? "EC2" : "STANDARD" }

    public static func arn(_ name: String) -> String { "arn:aws:eks::aws:cluster-access-policy/\(name)" }

    /// The policy an ARN names, if EKS has it.
    public static func name(ofArn arn: String) -> String? {
        let prefix = "arn:aws:eks::aws:cluster-access-policy/"
        guard arn.hasPrefix(prefix) else { return nil }
        let name = String(arn.dropFirst(prefix.count))
        return names.contains(name) ? name : nil
    }

    public static var all: [AccessPolicy] { names.map { AccessPolicy(name: $0, arn: arn($0)) } }
}

public struct CreateAccessEntryRequest: Codable, Sendable {
    public var principalArn: String
    public var kubernetesGroups: [String]?
    public var tags: [String: String]?
    public var clientRequestToken: String?
    public var username: String?
    public var type: String?
}

public struct UpdateAccessEntryRequest: Codable, Sendable {
    public var kubernetesGroups: [String]?
    public var clientRequestToken: String?
    public var username: String?
}

public struct AssociateAccessPolicyRequest: Codable, Sendable {
    public var policyArn: String
    public var accessScope: AccessScope
}

/// An EKS Pod Identity association: the IAM role that pods of one service account get credentials for.
public struct PodIdentityAssociation: Codable, Sendable, Equatable {
    public var clusterName: String
    public var namespace: String
    public var serviceAccount: String
    public var roleArn: String
    public var associationArn: String
    public var associationId: String
    public var tags: [String: String]
    public var createdAt: Date
    public var modifiedAt: Date
    public var disableSessionTags: Bool?
    /// The add-on that made the association (through its `podIdentityAssociations`) and alone changes it.
    public var ownerArn: String? = nil
}

public struct PodIdentityAssociationSummary: Codable, Sendable, Equatable {
    public var clusterName: String
    public var namespace: String
    public var serviceAccount: String
    public var associationArn: String
    public var associationId: String
}

public struct CreatePodIdentityAssociationRequest: Codable, Sendable {
    public var namespace: String
    public var serviceAccount: String
    public var roleArn: String
    public var clientRequestToken: String?
    public var tags: [String: String]?
    public var disableSessionTags: Bool?
}

public struct UpdatePodIdentityAssociationRequest: Codable, Sendable {
    public var roleArn: String?
    public var clientRequestToken: String?
    public var disableSessionTags: Bool?
}
