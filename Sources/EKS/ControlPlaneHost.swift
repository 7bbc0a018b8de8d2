import Foundation
import PKI

/// What a cluster's control plane is started with.
public struct ControlPlaneSpec: Sendable, Equatable {
    public let clusterName: String
    /// The Kubernetes patch version its API server reports (`1.34.1`).
    public let kubernetesVersion: String
    /// `https://host:port`, where its API server listens.
    public let endpoint: String
    public let certificateAuthority: CertificateAuthority
    public let serviceIpv4Cidr: String
    public let region: String
    /// The nodes of its managed node groups; they change without the control plane restarting.
    public var nodes: [NodeSpec]

    public init(clusterName: String, kubernetesVersion: String, endpoint: String, certificateAuthority: CertificateAuthority,
                serviceIpv4Cidr: String, region: String = "us-east-1", nodes: [NodeSpec] = []) {
        self.clusterName = clusterName
        self.kubernetesVersion = kubernetesVersion
        self.endpoint = endpoint
        self.certificateAuthority = certificateAuthority
        self.serviceIpv4Cidr = serviceIpv4Cidr
        self.region = region
        self.nodes = nodes
    }

    /// The same control plane, whatever its nodes.
    public func sameControlPlane(as other: ControlPlaneSpec) -> Bool {
        var mine = self, theirs = other
        mine.nodes = []
        theirs.nodes = []
        return mine == theirs
    }

    public var host: String { URLComponents(string: endpoint)?.host ?? "127.0.0.1" }
    /// `1.34` of `1.34.1`.
    public var minorVersion: String { kubernetesVersion.split(separator: ".").prefix(2).joined(separator: ".") }
    public var port: Int { URLComponents(string: endpoint)?.port ?? 443 }
}

/// One node of a managed node group: its instance and what its kubelet registers.
public struct NodeSpec: Sendable, Equatable {
    public struct Taint: Sendable, Equatable {
        public let key: String
        public let value: String
        /// As Kubernetes spells it: `NoSchedule`, `PreferNoSchedule`, `NoExecute`.
        public let effect: String
    }

    /// `ip-172-31-5-20.ec2.internal`
    public let name: String
    public let instanceId: String
    public let instanceType: String
    public let zone: String
    public let privateIP: String
    public let podAddresses: [String]
    public let labels: [String: String]
    public let taints: [Taint]
    public let cpuMillicores: Int
    public let allocatableCpuMillicores: Int
    public let memoryKiB: Int
    public let allocatableMemoryKiB: Int
    public let ephemeralStorageKiB: Int
    public let allocatableEphemeralStorageKiB: Int
    public let maxPods: Int
    public let kubeletVersion: String
}

/// Runs the control planes of clusters. EKS asks for one before a cluster turns
/// ACTIVE, keeps it in step with the cluster's version, and removes it (with its
/// data) when the cluster is deleted.
public protocol ControlPlaneHost: Sendable {
    /// Starts the control plane, or restarts it if its spec changed; does nothing if it runs as specified.
    func ensureRunning(_ spec: ControlPlaneSpec) async throws
    /// Stops the control plane and deletes its data.
    func remove(clusterName: String) async
}

/// For running the EKS API alone (its unit tests): clusters have no control plane.
public struct NoControlPlanes: ControlPlaneHost {
    public init() {}
    public func ensureRunning(_ spec: ControlPlaneSpec) async throws {}
    public func remove(clusterName: String) async {}
}

extension ClusterRecord {
    var controlPlaneSpec: ControlPlaneSpec {
        ControlPlaneSpec(clusterName: cluster.name,
                         kubernetesVersion: KubernetesVersions.named(cluster.version)?.patchVersion ?? "\(cluster.version).0",
                         endpoint: endpoint, certificateAuthority: certificateAuthority,
                         serviceIpv4Cidr: cluster.kubernetesNetworkConfig.serviceIpv4Cidr,
                         region: cluster.arn.split(separator: ":").dropFirst(3).first.map(String.init) ?? "us-east-1")
    }
}
