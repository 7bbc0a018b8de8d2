/// The default add-ons EKS installs in every new cluster, at their version for each Kubernetes minor
/// (the versions `DescribeAddonVersions` lists as default; kept beside the version table).
public struct DefaultAddonVersions: Sendable, Equatable {
    public let vpcCni: String
    public let kubeProxy: String
    public let coreDNS: String

    /// The registry EKS serves its add-on images from in a region.
    public static func registry(region: String) -> String { "602401143452.dkr.ecr.\(region).amazonaws.com" }

    public static func forVersion(_ minor: String) -> DefaultAddonVersions {
        table[minor] ?? table["1.34"]!
    }

    static let table: [String: DefaultAddonVersions] = [
        "1.34": DefaultAddonVersions(vpcCni: "v1.20.4-eksbuild.1", kubeProxy: "v1.34.0-eksbuild.4", coreDNS: "v1.12.3-eksbuild.1"),
        "1.33": DefaultAddonVersions(vpcCni: "v1.20.4-eksbuild.1", kubeProxy: "v1.33.3-eksbuild.10", coreDNS: "v1.12.1-eksbuild.2"),
        "1.32": DefaultAddonVersions(vpcCni: "v1.19.6-eksbuild.7", kubeProxy: "v1.32.6-eksbuild.12", coreDNS: "v1.11.4-eksbuild.14"),
        "1.31": DefaultAddonVersions(vpcCni: "v1.19.6-eksbuild.7", kubeProxy: "v1.31.10-eksbuild.12", coreDNS: "v1.11.4-eksbuild.14"),
        "1.30": DefaultAddonVersions(vpcCni: "v1.19.6-eksbuild.7", kubeProxy: "v1.30.14-eksbuild.8", coreDNS: "v1.11.4-eksbuild.14"),
        "1.29": DefaultAddonVersions(vpcCni: "v1.19.6-eksbuild.7", kubeProxy: "v1.29.15-eksbuild.16", coreDNS: "v1.11.4-eksbuild.14"),
    ]
}
