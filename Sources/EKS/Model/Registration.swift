import Foundation

/// A cluster registered with EKS (EKS Connector), as `DescribeCluster` returns it: no control plane here, only
/// the activation its connector agent uses to connect.
public struct ConnectedCluster: Codable, Sendable, Equatable {
    public var name: String
    public var arn: String
    public var createdAt: Date
    public var status: ClusterStatus
    public var connectorConfig: ConnectorConfigResponse
    public var clientRequestToken: String?
    public var tags: [String: String]
    public var health: ClusterHealth
}

public struct ConnectorConfigResponse: Codable, Sendable, Equatable {
    public var activationId: String
    public var activationCode: String
    public var activationExpiry: Date
    public var provider: String
    public var roleArn: String
}

public enum ConnectorProvider: String, Codable, Sendable {
    case EKS_ANYWHERE, ANTHOS, GKE, AKS, OPENSHIFT, TANZU, RANCHER, EC2, OTHER
}

public struct ConnectorConfigRequest: Codable, Sendable {
    public var roleArn: String
    public var provider: ConnectorProvider
}

public struct RegisterClusterRequest: Codable, Sendable {
    public var name: String
    public var connectorConfig: ConnectorConfigRequest
    public var clientRequestToken: String?
    public var tags: [String: String]?
}

/// What `DescribeCluster` finds by a name: a cluster EKS runs, or one registered with it.
public enum DescribedCluster: Encodable, Sendable {
    case eks(Cluster)
    case connected(ConnectedCluster)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .eks(let cluster): try cluster.encode(to: encoder)
        case .connected(let cluster): try cluster.encode(to: encoder)
        }
    }
}

/// An EKS Anywhere subscription, as `DescribeEksAnywhereSubscription` returns it.
public struct EksAnywhereSubscription: Codable, Sendable, Equatable {
    public var id: String
    public var arn: String
    public var createdAt: Date
    public var effectiveDate: Date
    public var expirationDate: Date
    public var licenseQuantity: Int
    public var licenseType: String
    public var term: EksAnywhereSubscriptionTerm
    public var status: EksAnywhereSubscriptionStatus
    public var autoRenew: Bool
    public var licenseArns: [String]
    public var licenses: [EksAnywhereLicense]
    public var tags: [String: String]
}

public enum EksAnywhereSubscriptionStatus: String, Codable, Sendable {
    case CREATING, ACTIVE, UPDATING, EXPIRING, EXPIRED, DELETING
}

public struct EksAnywhereSubscriptionTerm: Codable, Sendable, Equatable {
    public var duration: Int?
    public var unit: String?
}

public struct EksAnywhereLicense: Codable, Sendable, Equatable {
    public var id: String
    public var token: String
}

public struct CreateEksAnywhereSubscriptionRequest: Codable, Sendable {
    public var name: String
    public var term: EksAnywhereSubscriptionTerm
    public var licenseQuantity: Int?
    public var licenseType: String?
    public var autoRenew: Bool?
    public var clientRequestToken: String?
    public var tags: [String: String]?
}
