import Foundation

/// An EKS cluster insight, as `DescribeInsight` returns it.
public struct Insight: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var category: String
    public var kubernetesVersion: String
    public var lastRefreshTime: Date
    public var lastTransitionTime: Date
    public var description: String
    public var insightStatus: InsightStatus
    public var recommendation: String
    public var additionalInfo: [String: String]
    public var resources: [InsightResourceDetail]
    public var categorySpecificSummary: InsightCategorySpecificSummary

    public var summary: InsightSummary {
        InsightSummary(id: id, name: name, category: category, kubernetesVersion: kubernetesVersion, lastRefreshTime: lastRefreshTime,
                       lastTransitionTime: lastTransitionTime, description: description, insightStatus: insightStatus)
    }
}

public struct InsightSummary: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var category: String
    public var kubernetesVersion: String
    public var lastRefreshTime: Date
    public var lastTransitionTime: Date
    public var description: String
    public var insightStatus: InsightStatus
}

public struct InsightStatus: Codable, Sendable, Equatable {
    /// `PASSING`, `WARNING`, `ERROR` or `UNKNOWN`.
    public var status: String
    public var reason: String
}

public struct InsightResourceDetail: Codable, Sendable, Equatable {
    public var insightStatus: InsightStatus
    public var kubernetesResourceUri: String?
    public var arn: String?
}

public struct InsightCategorySpecificSummary: Codable, Sendable, Equatable {
    public var deprecationDetails: [DeprecationDetail]?
    public var addonCompatibilityDetails: [AddonCompatibilityDetail]?
}

public struct DeprecationDetail: Codable, Sendable, Equatable {
    public var usage: String
    public var replacedWith: String
    public var stopServingVersion: String
    public var startServingReplacementVersion: String
    public var clientStats: [ClientStat]
}

public struct ClientStat: Codable, Sendable, Equatable {
    public var userAgent: String
    public var numberOfRequestsLast30Days: Int
    public var lastRequestTime: Date
}

public struct AddonCompatibilityDetail: Codable, Sendable, Equatable {
    public var name: String
    public var compatibleVersions: [String]
}

public struct InsightsFilter: Codable, Sendable {
    public var categories: [String]?
    public var kubernetesVersions: [String]?
    public var statuses: [String]?
}

public struct InsightsRefresh: Codable, Sendable, Equatable {
    /// `IN_PROGRESS`, `FAILED` or `COMPLETED`.
    public var status: String
    public var message: String
    public var startedAt: Date
    public var endedAt: Date?
}

/// Calls to a deprecated API version, by one client, as the cluster's audit log records them.
public struct DeprecatedAPICalls: Sendable, Equatable {
    public let group: String
    public let version: String
    public let resource: String
    public let userAgent: String
    public let count: Int
    public let lastRequestTime: Date

    public init(group: String, version: String, resource: String, userAgent: String, count: Int, lastRequestTime: Date) {
        self.group = group
        self.version = version
        self.resource = resource
        self.userAgent = userAgent
        self.count = count
        self.lastRequestTime = lastRequestTime
    }
}
