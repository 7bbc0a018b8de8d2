import Foundation

/// A cluster as `DescribeCluster` returns it; field names are the EKS API's.
public struct Cluster: Codable, Sendable, Equatable {
    public var name: String
    public var arn: String
    public var createdAt: Date
    public var version: String
    public var endpoint: String?
    public var roleArn: String
    public var resourcesVpcConfig: VpcConfigResponse
    public var kubernetesNetworkConfig: KubernetesNetworkConfigResponse
    public var logging: Logging
    public var identity: ClusterIdentity?
    public var status: ClusterStatus
    public var certificateAuthority: CertificateData
    public var clientRequestToken: String?
    public var platformVersion: String
    public var tags: [String: String]
    public var encryptionConfig: [EncryptionConfig]?
    public var health: ClusterHealth
    public var accessConfig: AccessConfigResponse
    public var upgradePolicy: UpgradePolicy
    public var zonalShiftConfig: ZonalShiftConfig?
    public var deletionProtection: Bool
    /// EKS Auto Mode's settings, as given (Skiff records them; it runs no Auto Mode node pools).
    public var computeConfig: ComputeConfig? = nil
    public var storageConfig: StorageConfig? = nil
    /// The networks of hybrid nodes and their pods.
    public var remoteNetworkConfig: RemoteNetworkConfig? = nil
    public var controlPlaneScalingConfig: ControlPlaneScalingConfig? = nil
}

public struct ComputeConfig: Codable, Sendable, Equatable {
    public var enabled: Bool?
    public var nodePools: [String]?
    public var nodeRoleArn: String?
}

public struct StorageConfig: Codable, Sendable, Equatable {
    public struct BlockStorage: Codable, Sendable, Equatable {
        public var enabled: Bool?
    }
    public var blockStorage: BlockStorage?
}

public struct RemoteNetworkConfig: Codable, Sendable, Equatable {
    public struct Network: Codable, Sendable, Equatable {
        public var cidrs: [String]?
    }
    public var remoteNodeNetworks: [Network]?
    public var remotePodNetworks: [Network]?
}

public struct ControlPlaneScalingConfig: Codable, Sendable, Equatable {
    public var tier: String?
}

public struct OutpostConfigRequest: Codable, Sendable {
    public var outpostArns: [String]
    public var controlPlaneInstanceType: String
}

public enum ClusterStatus: String, Codable, Sendable {
    case CREATING, ACTIVE, DELETING, FAILED, UPDATING, PENDING
}

public struct VpcConfigResponse: Codable, Sendable, Equatable {
    public var subnetIds: [String]
    public var securityGroupIds: [String]
    public var clusterSecurityGroupId: String
    public var vpcId: String
    public var endpointPublicAccess: Bool
    public var endpointPrivateAccess: Bool
    public var publicAccessCidrs: [String]
}

public struct KubernetesNetworkConfigResponse: Codable, Sendable, Equatable {
    public var serviceIpv4Cidr: String
    public var ipFamily: String
    public var elasticLoadBalancing: ElasticLoadBalancing
}

public struct ElasticLoadBalancing: Codable, Sendable, Equatable {
    public var enabled: Bool?
}

/// The five control-plane log types EKS can ship to CloudWatch Logs.
public enum LogType: String, Codable, Sendable, CaseIterable {
    case api, audit, authenticator, controllerManager, scheduler
}

public struct LogSetup: Codable, Sendable, Equatable {
    public var types: [LogType]?
    public var enabled: Bool?
}

public struct Logging: Codable, Sendable, Equatable {
    public var clusterLogging: [LogSetup]?

    /// The log types enabled when none was before.
    public var enabledTypes: Set<LogType> { applied(to: []) }

    /// The log types enabled after applying each setup in order to `start`;
    /// types no setup names keep their state.
    public func applied(to start: Set<LogType>) -> Set<LogType> {
        var enabled = start
        for setup in clusterLogging ?? [] {
            for type in setup.types ?? [] {
                if setup.enabled == true { enabled.insert(type) } else { enabled.remove(type) }
            }
        }
        return enabled
    }

    /// The canonical form EKS reports: one setup of the enabled types, one of the disabled.
    public static func canonical(enabled: Set<LogType>) -> Logging {
        let on = LogType.allCases.filter(enabled.contains), off = LogType.allCases.filter { !enabled.contains($0) }
        var setups: [LogSetup] = []
        if !on.isEmpty { setups.append(LogSetup(types: on, enabled: true)) }
        if !off.isEmpty { setups.append(LogSetup(types: off, enabled: false)) }
        return Logging(clusterLogging: setups)
    }
}

public struct ClusterIdentity: Codable, Sendable, Equatable {
    public struct OIDC: Codable, Sendable, Equatable {
        public var issuer: String
    }
    public var oidc: OIDC
}

public struct CertificateData: Codable, Sendable, Equatable {
    public var data: String?
}

public struct EncryptionConfig: Codable, Sendable, Equatable {
    public struct Provider: Codable, Sendable, Equatable {
        public var keyArn: String?
    }
    public var resources: [String]?
    public var provider: Provider?
}

public struct Issue: Codable, Sendable, Equatable {
    public var code: String?
    public var message: String?
    public var resourceIds: [String]?
}

public struct ClusterHealth: Codable, Sendable, Equatable {
    public var issues: [Issue]
}

public enum AuthenticationMode: String, Codable, Sendable {
    case API, API_AND_CONFIG_MAP, CONFIG_MAP

    /// EKS only ever widens towards access entries: CONFIG_MAP → API_AND_CONFIG_MAP → API.
    var rank: Int {
        switch self {
        case .CONFIG_MAP: 0
        case .API_AND_CONFIG_MAP: 1
        case .API: 2
        }
    }
}

public struct AccessConfigResponse: Codable, Sendable, Equatable {
    public var bootstrapClusterCreatorAdminPermissions: Bool?
    public var authenticationMode: AuthenticationMode
}

public struct UpgradePolicy: Codable, Sendable, Equatable {
    public enum SupportType: String, Codable, Sendable { case STANDARD, EXTENDED }
    public var supportType: SupportType?
}

public struct ZonalShiftConfig: Codable, Sendable, Equatable {
    public var enabled: Bool?
}
