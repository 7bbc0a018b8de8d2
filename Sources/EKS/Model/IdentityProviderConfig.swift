import Foundation

/// An OIDC identity provider associated with a cluster, as `DescribeIdentityProviderConfig` returns it.
public struct OidcIdentityProviderConfig: Codable, Sendable, Equatable {
    public var identityProviderConfigName: String
    public var identityProviderConfigArn: String
    public var clusterName: String
    public var issuerUrl: String
    public var clientId: String
    public var usernameClaim: String?
    public var usernamePrefix: String?
    public var groupsClaim: String?
    public var groupsPrefix: String?
    public var requiredClaims: [String: String]?
    public var tags: [String: String]?
    public var status: IdentityProviderConfigStatus
}

public enum IdentityProviderConfigStatus: String, Codable, Sendable {
    case CREATING, DELETING, ACTIVE
}

public struct OidcIdentityProviderConfigRequest: Codable, Sendable {
    public var identityProviderConfigName: String
    public var issuerUrl: String
    public var clientId: String
    public var usernameClaim: String?
    public var usernamePrefix: String?
    public var groupsClaim: String?
    public var groupsPrefix: String?
    public var requiredClaims: [String: String]?
}

public struct AssociateIdentityProviderConfigRequest: Codable, Sendable {
    public var oidc: OidcIdentityProviderConfigRequest
    public var tags: [String: String]?
    public var clientRequestToken: String?
}

/// Names a cluster's identity provider config: its `type` (`oidc`) and `name`.
public struct IdentityProviderConfig: Codable, Sendable, Equatable {
    public var type: String
    public var name: String
}
