import Foundation
import KubeModel
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
    /// `identity.oidc.issuer`: the `iss` of its service-account tokens, whose discovery documents its API server publishes.
    public let oidcIssuer: String
    /// The KMS key its Secrets are encrypted with (`encryptionConfig`); once set, never removed.
    public var secretsKeyArn: String?
    /// The nodes of its managed node groups; they change without the control plane restarting.
    public var nodes: [NodeSpec]
    /// Who may use its API; changes without a restart too.
    public var access: ClusterAccess
    /// The control-plane log types shipped to CloudWatch Logs; changes without a restart too.
    public var enabledLogTypes: Set<LogType>
    /// `bootstrapSelfManagedAddons`: a new cluster gets vpc-cni, kube-proxy and coredns, self-managed.
    public var bootstrapsAddons: Bool
    /// The ACTIVE Fargate profiles; they change without a restart.
    public var fargateProfiles: [FargateProfileSpec] = []

    public init(clusterName: String, kubernetesVersion: String, endpoint: String, certificateAuthority: CertificateAuthority,
                serviceIpv4Cidr: String, region: String = "us-east-1", oidcIssuer: String = "", nodes: [NodeSpec] = [],
                access: ClusterAccess = ClusterAccess(), enabledLogTypes: Set<LogType> = [], secretsKeyArn: String? = nil,
                bootstrapsAddons: Bool = true) {
        self.secretsKeyArn = secretsKeyArn
        self.bootstrapsAddons = bootstrapsAddons
        self.clusterName = clusterName
        self.kubernetesVersion = kubernetesVersion
        self.endpoint = endpoint
        self.certificateAuthority = certificateAuthority
        self.serviceIpv4Cidr = serviceIpv4Cidr
        self.region = region
        self.oidcIssuer = oidcIssuer
        self.nodes = nodes
        self.access = access
        self.enabledLogTypes = enabledLogTypes
    }

    /// The same control plane, whatever its nodes, access and logging.
    public func sameControlPlane(as other: ControlPlaneSpec) -> Bool {
        var mine = self, theirs = other
        mine.nodes = []
        theirs.nodes = []
        mine.access = ClusterAccess()
        theirs.access = ClusterAccess()
        mine.enabledLogTypes = []
        theirs.enabledLogTypes = []
        mine.fargateProfiles = []
        theirs.fargateProfiles = []
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

/// Who may use a cluster's API, as its authenticator and authorizer read it: the authentication mode, the
/// access entries with their access policies, and the creator's implicit admin of `CONFIG_MAP` clusters.
public struct ClusterAccess: Sendable, Equatable {
    public struct PolicyGrant: Sendable, Equatable {
        /// `AmazonEKSViewPolicy`, …
        public let policyName: String
        /// nil for a cluster scope.
        public let namespaces: [String]?

        public init(policyName: String, namespaces: [String]?) {
            self.policyName = policyName
            self.namespaces = namespaces
        }
    }

    public struct Entry: Sendable, Equatable {
        /// May hold `{{SessionName}}`, `{{AccountID}}`, `{{EC2PrivateDNSName}}`.
        public let username: String
        public let groups: [String]
        public let type: String
        public let policies: [PolicyGrant]

        public init(username: String, groups: [String], type: String, policies: [PolicyGrant]) {
            self.username = username
            self.groups = groups
            self.type = type
            self.policies = policies
        }
    }

    /// `API`, `API_AND_CONFIG_MAP` or `CONFIG_MAP`.
    public var authenticationMode: String
    /// Access entries by principal ARN (honoured in the modes with `API`).
    public var entries: [String: Entry]
    /// The IAM principal that created a `CONFIG_MAP` cluster with bootstrap admin permissions: it is
    /// `kubernetes-admin` in `system:masters` without appearing in aws-auth, as on EKS.
    public var implicitAdminArn: String?
    /// EKS Pod Identity associations: role ARN by `namespace/serviceAccount`.
    public var podIdentities: [String: String]
    /// The node roles of the cluster's managed node groups, which EKS maps in aws-auth on `CONFIG_MAP` clusters.
    public var nodeRoles: [String]
    /// The associated OIDC identity providers whose ID tokens the API server accepts.
    public var oidcProviders: [OIDCIssuer]

    public init(authenticationMode: String = "CONFIG_MAP", entries: [String: Entry] = [:], implicitAdminArn: String? = nil,
                podIdentities: [String: String] = [:], nodeRoles: [String] = [], oidcProviders: [OIDCIssuer] = []) {
        self.authenticationMode = authenticationMode
        self.entries = entries
        self.implicitAdminArn = implicitAdminArn
        self.podIdentities = podIdentities
        self.nodeRoles = nodeRoles
        self.oidcProviders = oidcProviders
    }

    public var usesAccessEntries: Bool { authenticationMode.hasPrefix("API") }
    public var usesConfigMap: Bool { authenticationMode.hasSuffix("CONFIG_MAP") }
}

/// Runs the control planes of clusters. EKS asks for one before a cluster turns
/// ACTIVE, keeps it in step with the cluster's version, and removes it (with its
/// data) when the cluster is deleted.
public protocol ControlPlaneHost: Sendable {
    /// Starts the control plane, or restarts it if its spec changed; does nothing if it runs as specified.
    func ensureRunning(_ spec: ControlPlaneSpec) async throws
    /// Stops the control plane and deletes its data.
    func remove(clusterName: String) async
    /// Stops the control planes of clusters other than these, keeping their data: another replica of the region
    /// deleted them (and their data), or they no longer run.
    func keepOnly(clusterNames: Set<String>) async
    /// Who may now use the cluster's API (an access entry or the authentication mode changed); in effect on return.
    func updateAccess(clusterName: String, _ access: ClusterAccess) async
    /// Applies the add-on's objects to the cluster (server-side apply, as EKS's field manager `eks`), resolving
    /// conflicts with other managers' fields as `resolveConflicts` says; a refused apply changes nothing.
    func applyAddon(clusterName: String, _ addon: AddonInstallation) async -> AddonApplyOutcome
    /// Deletes the add-on's objects from the cluster, or with `preserve` leaves them running, unmanaged.
    func removeAddon(clusterName: String, _ addon: AddonInstallation, preserve: Bool) async
    /// What is wrong with the add-on's workloads now (too few ready replicas, objects missing); empty when healthy.
    func addonHealth(clusterName: String, _ addon: AddonInstallation) async -> [AddonIssue]
    /// Installs a capability's custom resource definitions (and Argo CD's namespace) in the cluster.
    func applyCapability(clusterName: String, type: CapabilityType, namespace: String?) async -> AddonApplyOutcome
    /// The calls to deprecated API versions since `since`, per version and client, from the cluster's audit log.
    func deprecatedAPICalls(clusterName: String, since: Date) async -> [DeprecatedAPICalls]
}

extension ControlPlaneHost {
    /// Hosts whose clusters hold no objects (the EKS API's unit tests) install every add-on at once, healthy.
    public func applyAddon(clusterName: String, _ addon: AddonInstallation) async -> AddonApplyOutcome { .applied }
    public func removeAddon(clusterName: String, _ addon: AddonInstallation, preserve: Bool) async {}
    public func addonHealth(clusterName: String, _ addon: AddonInstallation) async -> [AddonIssue] { [] }
    public func applyCapability(clusterName: String, type: CapabilityType, namespace: String?) async -> AddonApplyOutcome { .applied }
    public func deprecatedAPICalls(clusterName: String, since: Date) async -> [DeprecatedAPICalls] { [] }
}

/// For running the EKS API alone (its unit tests): clusters have no control plane.
public struct NoControlPlanes: ControlPlaneHost {
    public init() {}
    public func ensureRunning(_ spec: ControlPlaneSpec) async throws {}
    public func remove(clusterName: String) async {}
    public func keepOnly(clusterNames: Set<String>) async {}
    public func updateAccess(clusterName: String, _ access: ClusterAccess) async {}
}

extension ClusterRecord {
    var controlPlaneSpec: ControlPlaneSpec {
        ControlPlaneSpec(clusterName: cluster.name,
                         kubernetesVersion: KubernetesVersions.named(cluster.version)?.patchVersion ?? "\(cluster.version).0",
                         endpoint: endpoint, certificateAuthority: certificateAuthority,
                         serviceIpv4Cidr: cluster.kubernetesNetworkConfig.serviceIpv4Cidr,
                         region: cluster.arn.split(separator: ":").dropFirst(3).first.map(String.init) ?? "us-east-1",
                         oidcIssuer: oidcIssuer, enabledLogTypes: cluster.logging.enabledTypes,
                         secretsKeyArn: cluster.encryptionConfig?.first?.provider?.keyArn,
                         bootstrapsAddons: bootstrapSelfManagedAddons ?? true)
    }
}
