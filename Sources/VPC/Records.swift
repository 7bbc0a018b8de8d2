import Foundation
import RegionStore

/// An EC2 tag.
public struct Tag: Codable, Sendable, Equatable {
    public let key: String
    public let value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

public struct VPCRecord: StoredRecord, Equatable {
    public static let kind = "ec2.vpc"
    public var storeKey: String { vpcId }

    public let vpcId: String
    public let cidrBlock: IPv4CIDR
    public let cidrAssociationId: String
    public let dhcpOptionsId: String
    public let isDefault: Bool
    public let ownerId: String
    public var tags: [Tag]
}

public struct SubnetRecord: StoredRecord, Equatable {
    public static let kind = "ec2.subnet"
    public var storeKey: String { subnetId }

    public let subnetId: String
    public let vpcId: String
    public let cidrBlock: IPv4CIDR
    public let availabilityZone: String
    public let availabilityZoneId: String
    public let defaultForAz: Bool
    public let mapPublicIpOnLaunch: Bool
    public let ownerId: String
    public let subnetArn: String
    public var tags: [Tag]
    /// Addresses handed out from this subnet (network interfaces, pod IPs).
    public var usedAddresses: Int
    /// What data dirs of earlier Skiffs recorded of attachments here, before each became a `SubnetAttachment`.
    var attachedResources: [String]? = nil

    /// AWS keeps five addresses of every subnet: network, router, DNS, reserved, broadcast.
    public var availableIpAddressCount: Int { cidrBlock.addressCount - 5 - usedAddresses }
}

/// One inbound or outbound rule of a security group.
public struct SecurityGroupRule: Codable, Sendable, Equatable {
    public let ipProtocol: String
    public let fromPort: Int?
    public let toPort: Int?
    public let cidrRanges: [String]
    /// Other groups whose members the rule admits (by group id).
    public let groupIds: [String]
}

public struct SecurityGroupRecord: StoredRecord, Equatable {
    public static let kind = "ec2.securityGroup"
    public var storeKey: String { groupId }

    public let groupId: String
    public let groupName: String
    public let description: String
    public let vpcId: String
    public let ownerId: String
    public let securityGroupArn: String
    public var ingress: [SecurityGroupRule]
    public var egress: [SecurityGroupRule]
    public var tags: [Tag]
}

/// A resource with network interfaces in a subnet (a cluster, a node group); while any remains, the subnet cannot be
/// deleted. A record of its own, so that attaching costs the same however many share the subnet.
public struct SubnetAttachment: StoredRecord, Equatable {
    public static let kind = "vpc.subnetAttachment"
    public var storeKey: String { Self.key(subnetId: subnetId, resourceArn: resourceArn) }

    public let subnetId: String
    public let resourceArn: String

    static func key(subnetId: String, resourceArn: String) -> String { "\(subnetId)/\(resourceArn)" }
}
