import Foundation

/// An EKS capability (managed ACK, kro or Argo CD), as `DescribeCapability` returns it.
public struct Capability: Codable, Sendable, Equatable {
    public var capabilityName: String
    public var arn: String
    public var clusterName: String
    public var type: CapabilityType
    public var roleArn: String
    public var status: CapabilityStatus
    public var version: String
    public var configuration: CapabilityConfigurationResponse?
    public var tags: [String: String]
    public var health: CapabilityHealth
    public var createdAt: Date
    public var modifiedAt: Date
    public var deletePropagationPolicy: String
}

public enum CapabilityType: String, Codable, Sendable {
    case ACK, KRO, ARGOCD
}

public enum CapabilityStatus: String, Codable, Sendable {
    case CREATING, CREATE_FAILED, UPDATING, DELETING, DELETE_FAILED, ACTIVE, DEGRADED
}

public struct CapabilityHealth: Codable, Sendable, Equatable {
    public struct Issue: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
    }
    public var issues: [Issue]
}

public struct CapabilitySummary: Codable, Sendable, Equatable {
    public var capabilityName: String
    public var arn: String
    public var type: CapabilityType
    public var status: CapabilityStatus
    public var version: String
    public var createdAt: Date
    public var modifiedAt: Date
}

public struct SsoIdentity: Codable, Sendable, Equatable {
    public var id: String
    public var type: String
}

public struct ArgoCdRoleMapping: Codable, Sendable, Equatable {
    public var role: String
    public var identities: [SsoIdentity]
}

public struct ArgoCdNetworkAccess: Codable, Sendable, Equatable {
    public var vpceIds: [String]?
}

public struct ArgoCdAwsIdcConfigRequest: Codable, Sendable, Equatable {
    public var idcInstanceArn: String
    public var idcRegion: String?
}

public struct ArgoCdConfigRequest: Codable, Sendable, Equatable {
    public var namespace: String?
    public var awsIdc: ArgoCdAwsIdcConfigRequest
    public var rbacRoleMappings: [ArgoCdRoleMapping]?
    public var networkAccess: ArgoCdNetworkAccess?
}

public struct CapabilityConfigurationRequest: Codable, Sendable, Equatable {
    public var argoCd: ArgoCdConfigRequest?
}

public struct ArgoCdAwsIdcConfigResponse: Codable, Sendable, Equatable {
    public var idcInstanceArn: String
    public var idcRegion: String
    public var idcManagedApplicationArn: String
}

public struct ArgoCdConfigResponse: Codable, Sendable, Equatable {
    public var namespace: String
    public var awsIdc: ArgoCdAwsIdcConfigResponse
    public var rbacRoleMappings: [ArgoCdRoleMapping]
    public var networkAccess: ArgoCdNetworkAccess?
    public var serverUrl: String
}

public struct CapabilityConfigurationResponse: Codable, Sendable, Equatable {
    public var argoCd: ArgoCdConfigResponse?
}

public struct CreateCapabilityRequest: Codable, Sendable {
    public var capabilityName: String
    public var clientRequestToken: String?
    public var type: CapabilityType
    public var roleArn: String
    public var configuration: CapabilityConfigurationRequest?
    public var tags: [String: String]?
    public var deletePropagationPolicy: String
}

public struct UpdateRoleMappings: Codable, Sendable, Equatable {
    public var addOrUpdateRoleMappings: [ArgoCdRoleMapping]?
    public var removeRoleMappings: [ArgoCdRoleMapping]?
}

public struct UpdateArgoCdConfig: Codable, Sendable, Equatable {
    public var rbacRoleMappings: UpdateRoleMappings?
    public var networkAccess: ArgoCdNetworkAccess?
}

public struct UpdateCapabilityConfiguration: Codable, Sendable, Equatable {
    public var argoCd: UpdateArgoCdConfig?
}

public struct UpdateCapabilityRequest: Codable, Sendable {
    public var roleArn: String?
    public var configuration: UpdateCapabilityConfiguration?
    public var clientRequestToken: String?
    public var deletePropagationPolicy: String?
}
