import KubeModel

/// One add-on EKS offers: who publishes it, its versions with the Kubernetes versions each runs on, the
/// schema its `configurationValues` must follow, and the service accounts it runs as.
public struct AddonDefinition: Sendable {
    public struct Version: Sendable {
        public let version: String
        /// The Kubernetes minors (`1.33`) it is compatible with.
        public let clusterVersions: [String]
        /// The minors whose default it is: what a new cluster installs, and what CreateAddon picks when no version is given.
        public let defaultFor: [String]
    }

    public let name: String
    /// `networking`, `storage`, `security`, `observability`.
    public let type: String
    public let owner: String
    public let publisher: String
    public let defaultNamespace: String
    /// Newest first.
    public let versions: [Version]
    public let architectures: [String]
    public let computeTypes: [String]
    public let requiresIamPermissions: Bool
    /// The service accounts Pod Identity associations of the add-on may name, with the policies EKS suggests for them.
    public let podIdentity: [AddonPodIdentityConfiguration]
    /// The service account `serviceAccountRoleArn` annotates; nil when the add-on calls no AWS API.
    public let roleServiceAccount: String?
    /// Whether `namespaceConfig` may put it elsewhere than `defaultNamespace` (the community add-ons).
    public let namespaceConfigurable: Bool
    /// JSON Schema (draft-07) of `configurationValues`.
    public let configurationSchema: JSON

    public func version(_ name: String) -> Version? {
        versions.first { $0.version == name }
    }

    /// The version a cluster of `minor` gets when none is asked for.
    public func defaultVersion(for minor: String) -> String? {
        versions.first { $0.defaultFor.contains(minor) }?.version ?? versions.first { $0.clusterVersions.contains(minor) }?.version
    }
}

/// The add-ons `DescribeAddonVersions` lists: the three every cluster starts with (`vpc-cni`, `kube-proxy`,
/// `coredns`), the Amazon EBS CSI driver, the EKS Pod Identity Agent and the community metrics-server.
public enum AddonCatalog {
    public static func named(_ name: String) -> AddonDefinition? {
        all.first { $0.name == name }
    }

    /// The registry EKS serves its add-on images from in a region.
    public static func imageRegistry(region: String) -> String { "602401143452.dkr.ecr.\(region).amazonaws.com" }

    /// The add-ons EKS installs, self-managed, in every new cluster unless `bootstrapSelfManagedAddons` is false.
    public static let bootstrapped = ["vpc-cni", "kube-proxy", "coredns"]

    static let minors = KubernetesVersions.all.map(\.version)

    public static let all: [AddonDefinition] = [
        AddonDefinition(
            name: "vpc-cni", type: "networking", owner: "aws", publisher: "eks", defaultNamespace: "kube-system",
            versions: [
                .init(version: "v1.20.4-eksbuild.1", clusterVersions: minors, defaultFor: ["1.34", "1.33"]),
                .init(version: "v1.19.6-eksbuild.7", clusterVersions: minors, defaultFor: ["1.32", "1.31", "1.30", "1.29"]),
                .init(version: "v1.19.2-eksbuild.1", clusterVersions: ["1.33", "1.32", "1.31", "1.30", "1.29"], defaultFor: []),
                .init(version: "v1.18.6-eksbuild.1", clusterVersions: ["1.32", "1.31", "1.30", "1.29"], defaultFor: []),
            ],
            architectures: ["amd64", "arm64"], computeTypes: ["ec2"], requiresIamPermissions: true,
            podIdentity: [AddonPodIdentityConfiguration(serviceAccount: "aws-node",
                                                        recommendedManagedPolicies: ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"])],
            roleServiceAccount: "aws-node", namespaceConfigurable: false, configurationSchema: AddonSchemas.vpcCni),
        AddonDefinition(
            name: "kube-proxy", type: "networking", owner: "aws", publisher: "eks", defaultNamespace: "kube-system",
            versions: [
                ("v1.34.0-eksbuild.4", "1.34", true), ("v1.34.0-eksbuild.2", "1.34", false),
                ("v1.33.3-eksbuild.10", "1.33", true), ("v1.33.0-eksbuild.2", "1.33", false),
                ("v1.32.6-eksbuild.12", "1.32", true), ("v1.32.0-eksbuild.2", "1.32", false),
                ("v1.31.10-eksbuild.12", "1.31", true), ("v1.31.2-eksbuild.3", "1.31", false),
                ("v1.30.14-eksbuild.8", "1.30", true), ("v1.30.6-eksbuild.3", "1.30", false),
                ("v1.29.15-eksbuild.16", "1.29", true), ("v1.29.10-eksbuild.3", "1.29", false),
            ].map { .init(version: $0.0, clusterVersions: [$0.1], defaultFor: $0.2 ? [$0.1] : []) },
            architectures: ["amd64", "arm64"], computeTypes: ["ec2", "hybrid"], requiresIamPermissions: false, podIdentity: [],
            roleServiceAccount: nil, namespaceConfigurable: false, configurationSchema: AddonSchemas.kubeProxy),
        AddonDefinition(
            name: "coredns", type: "networking", owner: "aws", publisher: "eks", defaultNamespace: "kube-system",
            versions: [
                .init(version: "v1.12.3-eksbuild.1", clusterVersions: ["1.34", "1.33"], defaultFor: ["1.34"]),
                .init(version: "v1.12.1-eksbuild.2", clusterVersions: ["1.34", "1.33", "1.32"], defaultFor: ["1.33"]),
                .init(version: "v1.11.4-eksbuild.14", clusterVersions: ["1.32", "1.31", "1.30", "1.29"], defaultFor: ["1.32", "1.31", "1.30", "1.29"]),
                .init(version: "v1.11.1-eksbuild.8", clusterVersions: ["1.31", "1.30", "1.29"], defaultFor: []),
            ],
            architectures: ["amd64", "arm64"], computeTypes: ["ec2", "fargate", "hybrid"], requiresIamPermissions: false, podIdentity: [],
            roleServiceAccount: nil, namespaceConfigurable: false, configurationSchema: AddonSchemas.coreDNS),
        AddonDefinition(
            name: "aws-ebs-csi-driver", type: "storage", owner: "aws", publisher: "eks", defaultNamespace: "kube-system",
            versions: [
                .init(version: "v1.48.0-eksbuild.2", clusterVersions: minors, defaultFor: minors),
                .init(version: "v1.47.0-eksbuild.1", clusterVersions: minors, defaultFor: []),
                .init(version: "v1.44.0-eksbuild.1", clusterVersions: ["1.33", "1.32", "1.31", "1.30", "1.29"], defaultFor: []),
            ],
            architectures: ["amd64", "arm64"], computeTypes: ["ec2"], requiresIamPermissions: true,
            podIdentity: [AddonPodIdentityConfiguration(serviceAccount: "ebs-csi-controller-sa",
                                                        recommendedManagedPolicies: ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"])],
            roleServiceAccount: "ebs-csi-controller-sa", namespaceConfigurable: false, configurationSchema: AddonSchemas.ebsCSIDriver),
        AddonDefinition(
            name: "eks-pod-identity-agent", type: "security", owner: "aws", publisher: "eks", defaultNamespace: "kube-system",
            versions: [
                .init(version: "v1.3.8-eksbuild.2", clusterVersions: minors, defaultFor: minors),
                .init(version: "v1.3.7-eksbuild.2", clusterVersions: minors, defaultFor: []),
                .init(version: "v1.3.4-eksbuild.1", clusterVersions: ["1.32", "1.31", "1.30", "1.29"], defaultFor: []),
            ],
            architectures: ["amd64", "arm64"], computeTypes: ["ec2", "hybrid"], requiresIamPermissions: false, podIdentity: [],
            roleServiceAccount: nil, namespaceConfigurable: false, configurationSchema: AddonSchemas.podIdentityAgent),
        AddonDefinition(
            name: "metrics-server", type: "observability", owner: "community", publisher: "eks", defaultNamespace: "kube-system",
            versions: [
                .init(version: "v0.8.0-eksbuild.2", clusterVersions: minors, defaultFor: minors),
                .init(version: "v0.7.2-eksbuild.4", clusterVersions: minors, defaultFor: []),
            ],
            architectures: ["amd64", "arm64"], computeTypes: ["ec2", "fargate", "hybrid"], requiresIamPermissions: false, podIdentity: [],
            roleServiceAccount: nil, namespaceConfigurable: true, configurationSchema: AddonSchemas.metricsServer),
    ]
}
