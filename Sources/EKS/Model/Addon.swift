import Foundation

/// An EKS add-on as `DescribeAddon` returns it.
public struct Addon: Codable, Sendable, Equatable {
    public var addonName: String
    public var clusterName: String
    public var status: AddonStatus
    public var addonVersion: String
    public var health: AddonHealth
    public var addonArn: String
    public var createdAt: Date
    public var modifiedAt: Date
    public var serviceAccountRoleArn: String?
    public var tags: [String: String]
    public var publisher: String
    public var owner: String
    public var configurationValues: String?
    public var podIdentityAssociations: [String]?
    public var namespaceConfig: AddonNamespaceConfig?
}

public enum AddonStatus: String, Codable, Sendable {
    case CREATING, ACTIVE, CREATE_FAILED, UPDATING, DELETING, DELETE_FAILED, DEGRADED, UPDATE_FAILED
}

public struct AddonHealth: Codable, Sendable, Equatable {
    public var issues: [AddonIssue]

    public init(issues: [AddonIssue] = []) {
        self.issues = issues
    }
}

public struct AddonIssue: Codable, Sendable, Equatable {
    public enum Code: String, Codable, Sendable {
        case AccessDenied, InternalFailure, ClusterUnreachable, InsufficientNumberOfReplicas, ConfigurationConflict
        case AdmissionRequestDenied, UnsupportedAddonModification, K8sResourceNotFound, AddonSubscriptionNeeded, AddonPermissionFailure
    }

    public var code: Code
    public var message: String
    public var resourceIds: [String]?

    public init(code: Code, message: String, resourceIds: [String]? = nil) {
        self.code = code
        self.message = message
        self.resourceIds = resourceIds
    }
}

public struct AddonNamespaceConfig: Codable, Sendable, Equatable {
    public var namespace: String?
}

/// How an add-on's create or update treats fields of its objects that someone else changed.
public enum ResolveConflicts: String, Codable, Sendable {
    /// Take the fields over, at the add-on's values.
    case OVERWRITE
    /// Fail, changing nothing.
    case NONE
    /// Keep the other values and apply the rest (updates only).
    case PRESERVE
}

public struct AddonPodIdentityAssociation: Codable, Sendable, Equatable {
    public var serviceAccount: String
    public var roleArn: String
}

public struct CreateAddonRequest: Codable, Sendable {
    public var addonName: String
    public var addonVersion: String?
    public var serviceAccountRoleArn: String?
    public var resolveConflicts: ResolveConflicts?
    public var clientRequestToken: String?
    public var tags: [String: String]?
    public var configurationValues: String?
    public var podIdentityAssociations: [AddonPodIdentityAssociation]?
    public var namespaceConfig: AddonNamespaceConfig?
}

public struct UpdateAddonRequest: Codable, Sendable {
    public var addonVersion: String?
    public var serviceAccountRoleArn: String?
    public var resolveConflicts: ResolveConflicts?
    public var clientRequestToken: String?
    public var configurationValues: String?
    public var podIdentityAssociations: [AddonPodIdentityAssociation]?
}

/// One add-on of `DescribeAddonVersions`.
public struct AddonInfo: Codable, Sendable, Equatable {
    public var addonName: String
    public var type: String
    public var addonVersions: [AddonVersionInfo]
    public var publisher: String
    public var owner: String
    public var defaultNamespace: String
}

public struct AddonVersionInfo: Codable, Sendable, Equatable {
    public var addonVersion: String
    public var architecture: [String]
    public var computeTypes: [String]
    public var compatibilities: [AddonCompatibility]
    public var requiresConfiguration: Bool
    public var requiresIamPermissions: Bool
}

public struct AddonCompatibility: Codable, Sendable, Equatable {
    public var clusterVersion: String
    public var platformVersions: [String]
    public var defaultVersion: Bool
}

public struct AddonConfiguration: Codable, Sendable, Equatable {
    public var addonName: String
    public var addonVersion: String
    public var configurationSchema: String
    public var podIdentityConfiguration: [AddonPodIdentityConfiguration]
}

public struct AddonPodIdentityConfiguration: Codable, Sendable, Equatable {
    public var serviceAccount: String
    public var recommendedManagedPolicies: [String]
}
