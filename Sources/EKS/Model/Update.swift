import Foundation

/// An asynchronous change to a cluster or node group, as `DescribeUpdate` returns it.
public struct Update: Codable, Sendable, Equatable {
    public var id: String
    public var status: UpdateStatus
    public var type: UpdateType
    public var params: [UpdateParam]
    public var createdAt: Date
    public var errors: [ErrorDetail]
}

public enum UpdateStatus: String, Codable, Sendable {
    case InProgress, Failed, Cancelled, Successful
}

public enum UpdateType: String, Codable, Sendable {
    case VersionUpdate, EndpointAccessUpdate, LoggingUpdate, ConfigUpdate, AccessConfigUpdate
    case UpgradePolicyUpdate, ZonalShiftConfigUpdate, VpcConfigUpdate, DeletionProtectionUpdate, AssociateEncryptionConfig
    case AddonUpdate, AssociateIdentityProviderConfig, DisassociateIdentityProviderConfig
}

public struct UpdateParam: Codable, Sendable, Equatable {
    public var type: String
    public var value: String

    public init(_ type: String, _ value: String) {
        self.type = type
        self.value = value
    }
}

public struct ErrorDetail: Codable, Sendable, Equatable {
    public var errorCode: String?
    public var errorMessage: String?
    public var resourceIds: [String]?
}
