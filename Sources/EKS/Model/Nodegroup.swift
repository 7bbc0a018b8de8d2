import Foundation

/// A managed node group as `DescribeNodegroup` returns it.
public struct Nodegroup: Codable, Sendable, Equatable {
    public var nodegroupName: String
    public var nodegroupArn: String
    public var clusterName: String
    public var version: String
    public var releaseVersion: String
    public var createdAt: Date
    public var modifiedAt: Date
    public var status: NodegroupStatus
    public var capacityType: CapacityType
    public var scalingConfig: NodegroupScalingConfig
    /// null when the node group's launch template names the instance type.
    public var instanceTypes: [String]?
    public var subnets: [String]
    public var remoteAccess: RemoteAccessConfig?
    public var amiType: String
    public var nodeRole: String
    public var labels: [String: String]
    public var taints: [Taint]?
    public var resources: NodegroupResources
    public var diskSize: Int?
    public var health: NodegroupHealth
    public var updateConfig: NodegroupUpdateConfig
    public var launchTemplate: LaunchTemplateSpecification?
    public var tags: [String: String]
    /// As given (Skiff's simulated nodes do not fail, so nothing is repaired; a warm pool holds no instances).
    public var nodeRepairConfig: NodeRepairConfig? = nil
    public var warmPoolConfig: WarmPoolConfig? = nil
}

public struct NodeRepairConfig: Codable, Sendable, Equatable {
    public var enabled: Bool?
    public var maxUnhealthyNodeThresholdCount: Int?
    public var maxUnhealthyNodeThresholdPercentage: Int?
    public var maxParallelNodesRepairedCount: Int?
    public var maxParallelNodesRepairedPercentage: Int?
}

public struct WarmPoolConfig: Codable, Sendable, Equatable {
    public var enabled: Bool?
    public var minSize: Int?
    public var maxGroupPreparedCapacity: Int?
    public var poolState: String?
    public var reuseOnScaleIn: Bool?
}

public enum NodegroupStatus: String, Codable, Sendable {
    case CREATING, ACTIVE, UPDATING, DELETING, CREATE_FAILED, DELETE_FAILED, DEGRADED
}

public enum CapacityType: String, Codable, Sendable {
    case ON_DEMAND, SPOT, CAPACITY_BLOCK
}

public struct NodegroupScalingConfig: Codable, Sendable, Equatable {
    public var minSize: Int?
    public var maxSize: Int?
    public var desiredSize: Int?
}

public struct RemoteAccessConfig: Codable, Sendable, Equatable {
    public var ec2SshKey: String?
    public var sourceSecurityGroups: [String]?
}

public struct Taint: Codable, Sendable, Equatable {
    public enum Effect: String, Codable, Sendable { case NO_SCHEDULE, NO_EXECUTE, PREFER_NO_SCHEDULE }
    public var key: String?
    public var value: String?
    public var effect: Effect?
}

public struct NodegroupResources: Codable, Sendable, Equatable {
    public struct AutoScalingGroup: Codable, Sendable, Equatable {
        public var name: String
    }
    public var autoScalingGroups: [AutoScalingGroup]
    public var remoteAccessSecurityGroup: String?
}

public struct NodegroupHealth: Codable, Sendable, Equatable {
    public var issues: [Issue]
}

public struct NodegroupUpdateConfig: Codable, Sendable, Equatable {
    public var maxUnavailable: Int?
    public var maxUnavailablePercentage: Int?
    public var updateStrategy: String?
}

public struct LaunchTemplateSpecification: Codable, Sendable, Equatable {
    public var name: String?
    public var version: String?
    public var id: String?
}
