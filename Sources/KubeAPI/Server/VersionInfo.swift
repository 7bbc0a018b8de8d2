import KubeModel

/// What `/version` reports: the cluster's Kubernetes version, as EKS builds it.
public struct VersionInfo: Sendable {
    public let major: String
    public let minor: String
    public let gitVersion: String

    /// From a patch version such as `1.34.1`; EKS appends `-eks-` and a build id.
    public init(patchVersion: String) {
        let parts = patchVersion.split(separator: ".").map(String.init)
        major = parts.first ?? "1"
        minor = parts.count > 1 ? parts[1] : "0"
        gitVersion = "v\(patchVersion)-eks-4096c30"
    }

    var json: JSON {
        ["major": .string(major), "minor": .string(minor), "gitVersion": .string(gitVersion),
         "gitCommit": "4096c30a1d8b1c6c0a9e3c1a24f5d4c2e4f1b0a7", "gitTreeState": "clean",
         "buildDate": "2025-11-20T00:00:00Z", "goVersion": "go1.24.9", "compiler": "gc", "platform": "linux/amd64"]
    }
}
