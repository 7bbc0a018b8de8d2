import Foundation
import PKI
import RegionStore

/// A cluster as stored: its API view plus what never leaves the server.
public struct ClusterRecord: StoredRecord {
    public static let kind = "eks.cluster"
    public var storeKey: String { cluster.name }

    public var cluster: Cluster
    public let certificateAuthority: CertificateAuthority
    /// Where the cluster's API server answers; shown once the cluster is ACTIVE.
    public let endpoint: String
    public let oidcIssuer: String
    /// When the current CREATING or DELETING finishes.
    public var dueAt: Date?
    /// The IAM principal that created the cluster: its admin when `bootstrapClusterCreatorAdminPermissions`.
    public var creatorArn: String?
    /// false: the cluster was created without the self-managed vpc-cni, kube-proxy and coredns.
    public var bootstrapSelfManagedAddons: Bool?

    /// The cluster as EKS shows it: no endpoint, CA or OIDC issuer until it is provisioned.
    public var view: Cluster {
        var view = cluster
        if cluster.status != .CREATING {
            view.endpoint = endpoint
            view.certificateAuthority = CertificateData(data: certificateAuthority.certificateData)
            view.identity = ClusterIdentity(oidc: .init(issuer: oidcIssuer))
        }
        return view
    }
}

/// An access entry and the access policies associated with it.
public struct AccessEntryRecord: StoredRecord {
    public static let kind = "eks.accessEntry"
    public var storeKey: String { Self.key(cluster: entry.clusterName, principalArn: entry.principalArn) }
    public static func key(cluster: String, principalArn: String) -> String { "\(cluster)/\(principalArn)" }

    public var entry: AccessEntry
    public var policies: [AssociatedAccessPolicy]
    public let clientRequestToken: String?
}

public struct PodIdentityAssociationRecord: StoredRecord {
    public static let kind = "eks.podIdentityAssociation"
    public var storeKey: String { "\(association.clusterName)/\(association.associationId)" }

    public var association: PodIdentityAssociation
    public let clientRequestToken: String?
}

public struct NodegroupRecord: StoredRecord {
    public static let kind = "eks.nodegroup"
    public var storeKey: String { Self.key(cluster: nodegroup.clusterName, nodegroup: nodegroup.nodegroupName) }
    public static func key(cluster: String, nodegroup: String) -> String { "\(cluster)/\(nodegroup)" }

    public var nodegroup: Nodegroup
    public let clientRequestToken: String?
    /// When the current CREATING or DELETING finishes.
    public var dueAt: Date?
    /// The instance type its launch template names, when it does.
    public var templateInstanceType: String? = nil
}

/// An update and the change it applies when it succeeds.
public struct UpdateRecord: StoredRecord {
    public static let kind = "eks.update"
    public var storeKey: String { "\(clusterName)/\(update.id)" }

    public let clusterName: String
    /// Set for node group updates.
    public let nodegroupName: String?
    /// Set for add-on updates.
    public var addonName: String? = nil
    /// Set for capability updates.
    public var capabilityName: String? = nil
    public var update: Update
    public let change: PendingChange
    public let dueAt: Date
}

/// What an update changes, applied when it completes, as EKS shows the new
/// configuration only once its update is `Successful`.
public enum PendingChange: Codable, Sendable, Equatable {
    case clusterVersion(version: String, platformVersion: String)
    case endpointAccess(publicAccess: Bool, privateAccess: Bool, publicAccessCidrs: [String])
    case vpcConfig(subnetIds: [String], securityGroupIds: [String])
    case logging(Logging)
    case authenticationMode(AuthenticationMode)
    case upgradePolicy(UpgradePolicy)
    case deletionProtection(Bool)
    case zonalShift(ZonalShiftConfig)
    case encryption([EncryptionConfig])
    case nodegroupConfig(NodegroupConfigChange)
    case nodegroupVersion(version: String, releaseVersion: String, launchTemplate: LaunchTemplateSpecification?)
    case addon(AddonChange)
    /// An identity provider config turns ACTIVE (associate) or goes (disassociate).
    case identityProvider(name: String, associate: Bool)
    /// A capability's role and configuration after the update.
    case capability(roleArn: String, configuration: CapabilityConfigurationResponse?)
}

/// What an add-on update asks for; the add-on shows it once its objects are applied.
public struct AddonChange: Codable, Sendable, Equatable {
    public var addonVersion: String
    public var serviceAccountRoleArn: String?
    /// The whole configuration after the update (nil: none).
    public var configurationValues: String?
    public var resolveConflicts: ResolveConflicts
    /// nil leaves the add-on's Pod Identity associations as they are; a list replaces them.
    public var podIdentityAssociations: [AddonPodIdentityAssociation]?
}

/// An add-on of a cluster and how its pending create or delete is to run.
public struct AddonRecord: StoredRecord {
    public static let kind = "eks.addon"
    public var storeKey: String { Self.key(cluster: addon.clusterName, addon: addon.addonName) }
    public static func key(cluster: String, addon: String) -> String { "\(cluster)/\(addon)" }

    /// Its health as recorded: why a create failed. The pods' health is read from the cluster when described.
    public var addon: Addon
    public let clientRequestToken: String?
    /// When the current CREATING or DELETING is carried out.
    public var dueAt: Date?
    /// How the create treats fields someone else set.
    public var resolveConflicts: ResolveConflicts
    /// For a delete: leave the add-on's objects in the cluster.
    public var preserve: Bool = false
}

public struct NodegroupConfigChange: Codable, Sendable, Equatable {
    public var scalingConfig: NodegroupScalingConfig?
    public var addOrUpdateLabels: [String: String]
    public var removeLabels: [String]
    public var addOrUpdateTaints: [Taint]
    public var removeTaints: [Taint]
    public var updateConfig: NodegroupUpdateConfig?
}

/// A port a cluster's API server holds, in every replica: no two clusters of a region share one.
public struct ClusterPortRecord: StoredRecord {
    public static let kind = "eks.clusterPort"
    public var storeKey: String { String(port) }

    public let port: Int
    public let clusterName: String
}

/// An OIDC identity provider config of a cluster.
public struct IdentityProviderConfigRecord: StoredRecord {
    public static let kind = "eks.identityProviderConfig"
    public var storeKey: String { Self.key(cluster: config.clusterName, name: config.identityProviderConfigName) }
    public static func key(cluster: String, name: String) -> String { "\(cluster)/\(name)" }

    public var config: OidcIdentityProviderConfig
    public let clientRequestToken: String?
}

/// A cluster registered through EKS Connector: PENDING until its agent connects, which no agent does here.
public struct RegisteredClusterRecord: StoredRecord {
    public static let kind = "eks.registeredCluster"
    public var storeKey: String { cluster.name }

    public var cluster: ConnectedCluster
    /// When a DELETING deregistration finishes.
    public var dueAt: Date?
}

public struct EksAnywhereSubscriptionRecord: StoredRecord {
    public static let kind = "eks.eksAnywhereSubscription"
    public var storeKey: String { subscription.id }

    public var subscription: EksAnywhereSubscription
    public let name: String
    public let clientRequestToken: String?
    /// When a CREATING subscription turns ACTIVE.
    public var dueAt: Date?
}

public struct CapabilityRecord: StoredRecord {
    public static let kind = "eks.capability"
    public var storeKey: String { Self.key(cluster: capability.clusterName, name: capability.capabilityName) }
    public static func key(cluster: String, name: String) -> String { "\(cluster)/\(name)" }

    public var capability: Capability
    public let clientRequestToken: String?
    /// When the current CREATING or DELETING is carried out.
    public var dueAt: Date?
}

/// A cluster's insights as its last refresh computed them, and that refresh.
public struct InsightsRecord: StoredRecord {
    public static let kind = "eks.insights"
    public var storeKey: String { clusterName }

    public let clusterName: String
    public var insights: [Insight]
    public var refresh: InsightsRefresh
    /// When an IN_PROGRESS refresh is carried out.
    public var dueAt: Date?
}

public struct FargateProfileRecord: StoredRecord {
    public static let kind = "eks.fargateProfile"
    public var storeKey: String { Self.key(cluster: profile.clusterName, name: profile.fargateProfileName) }
    public static func key(cluster: String, name: String) -> String { "\(cluster)/\(name)" }

    public var profile: FargateProfile
    public let clientRequestToken: String?
    /// When the current CREATING or DELETING finishes.
    public var dueAt: Date?
}
