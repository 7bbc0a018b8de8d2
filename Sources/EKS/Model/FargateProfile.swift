import Foundation
import VPC

/// A Fargate profile as `DescribeFargateProfile` returns it.
public struct FargateProfile: Codable, Sendable, Equatable {
    public var fargateProfileName: String
    public var fargateProfileArn: String
    public var clusterName: String
    public var createdAt: Date
    public var podExecutionRoleArn: String
    public var subnets: [String]
    public var selectors: [FargateProfileSelector]
    public var status: FargateProfileStatus
    public var tags: [String: String]
    public var health: FargateProfileHealth
}

public enum FargateProfileStatus: String, Codable, Sendable {
    case CREATING, ACTIVE, DELETING, CREATE_FAILED, DELETE_FAILED
}

public struct FargateProfileSelector: Codable, Sendable, Equatable {
    public var namespace: String?
    public var labels: [String: String]?

    public init(namespace: String?, labels: [String: String]?) {
        self.namespace = namespace
        self.labels = labels
    }
}

public struct FargateProfileHealth: Codable, Sendable, Equatable {
    public struct Issue: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public var resourceIds: [String]?
    }
    public var issues: [Issue]
}

public struct CreateFargateProfileRequest: Codable, Sendable {
    public var fargateProfileName: String
    public var podExecutionRoleArn: String
    public var subnets: [String]?
    public var selectors: [FargateProfileSelector]?
    public var clientRequestToken: String?
    public var tags: [String: String]?
}

/// An ACTIVE Fargate profile as a cluster's control plane applies it: pods its selectors match run on Fargate,
/// each on a node of its own in one of its subnets.
public struct FargateProfileSpec: Sendable, Equatable {
    public struct Subnet: Sendable, Equatable {
        public let subnetId: String
        public let zone: String
        public let cidr: String

        public init(subnetId: String, zone: String, cidr: String) {
            self.subnetId = subnetId
            self.zone = zone
            self.cidr = cidr
        }

        /// Whether `address` (`10.0.1.23`) lies in the subnet.
        public func contains(address: String) -> Bool {
            guard let block = IPv4CIDR(cidr), let single = IPv4CIDR(address + "/32") else { return false }
            return block.contains(single)
        }
    }

    public let name: String
    public let selectors: [FargateProfileSelector]
    public let subnets: [Subnet]

    public init(name: String, selectors: [FargateProfileSelector], subnets: [Subnet]) {
        self.name = name
        self.selectors = selectors
        self.subnets = subnets
    }

    /// Whether a pod of `namespace` with `labels` is this profile's: some selector's namespace matches
    /// (`*` and `?` wildcards allowed, as on EKS) and its labels are all the pod's.
    public func matches(namespace: String, labels: [String: String]) -> Bool {
        selectors.contains { selector in
            guard let pattern = selector.namespace, Self.wildcard(pattern, matches: namespace) else { return false }
            return (selector.labels ?? [:]).allSatisfy { key, value in labels[key].map { Self.wildcard(value, matches: $0) } ?? false }
        }
    }

    static func wildcard(_ pattern: String, matches text: String) -> Bool {
        let pattern = Array(pattern), text = Array(text)
        func match(_ p: Int, _ t: Int) -> Bool {
            if p == pattern.count { return t == text.count }
            if pattern[p] == "*" { return match(p + 1, t) || (t < text.count && match(p, t + 1)) }
            guard t < text.count, pattern[p] == "?" || pattern[p] == text[t] else { return false }
            return match(p + 1, t + 1)
        }
        return match(0, 0)
    }
}
