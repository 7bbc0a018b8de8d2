import Foundation

/// One entry of `DescribeClusterVersions`.
public struct ClusterVersionInformation: Codable, Sendable, Equatable {
    public var clusterVersion: String
    public var clusterType: String
    public var defaultPlatformVersion: String
    public var defaultVersion: Bool
    public var releaseDate: Date
    public var endOfStandardSupportDate: Date
    public var endOfExtendedSupportDate: Date
    public var status: String
    public var versionStatus: String
    public var kubernetesPatchVersion: String
}

public struct DescribeClusterVersionsRequest: Sendable {
    public var clusterType: String?
    public var maxResults: Int?
    public var nextToken: String?
    public var defaultOnly: Bool?
    public var includeAll: Bool?
    public var clusterVersions: [String]?
    public var status: String?
    public var versionStatus: String?

    public init(clusterType: String? = nil, maxResults: Int? = nil, nextToken: String? = nil, defaultOnly: Bool? = nil,
                includeAll: Bool? = nil, clusterVersions: [String]? = nil, status: String? = nil, versionStatus: String? = nil) {
        self.clusterType = clusterType
        self.maxResults = maxResults
        self.nextToken = nextToken
        self.defaultOnly = defaultOnly
        self.includeAll = includeAll
        self.clusterVersions = clusterVersions
        self.status = status
        self.versionStatus = versionStatus
    }
}

extension EKSService {
    public func describeClusterVersions(_ input: DescribeClusterVersionsRequest) throws -> ListPage<ClusterVersionInformation> {
        let versions = KubernetesVersions.all.filter { version in
            (input.clusterType == nil || input.clusterType == "eks")
                && (input.defaultOnly != true || version == KubernetesVersions.default)
                && (input.clusterVersions.map { $0.contains(version.version) } ?? true)
                && (input.versionStatus.map { $0 == version.support.rawValue } ?? true)
                && (input.status.map { $0 == version.support.legacyStatus } ?? true)
        }.map { version in
            ClusterVersionInformation(
                clusterVersion: version.version, clusterType: "eks", defaultPlatformVersion: version.platformVersion,
                defaultVersion: version == KubernetesVersions.default, releaseDate: version.releaseDate,
                endOfStandardSupportDate: version.endOfStandardSupportDate,
                endOfExtendedSupportDate: version.endOfExtendedSupportDate,
                status: version.support.legacyStatus, versionStatus: version.support.rawValue,
                kubernetesPatchVersion: version.patchVersion)
        }
        // Newest first; the paging key must rise as the list goes on.
        return try Paging.page(versions, key: { String(format: "%04d", 9999 - (KubernetesVersions.named($0.clusterVersion)?.minor ?? 0)) },
                               maxResults: input.maxResults, nextToken: input.nextToken)
    }
}
