/// Decides whether a user may take an action, as the API server's authorizers do; RBAC and EKS access
/// entries implement it later.
public protocol Authorizer: Sendable {
    func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision
    /// What a user may do in a namespace, for `SelfSubjectRulesReview` (`kubectl auth can-i --list`).
    func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules
}

/// One request's attributes: who asks, and for which resource or non-resource path.
public struct AuthorizationRequest: Sendable {
    public let user: UserInfo
    public let resource: ResourceAttributes?
    public let nonResource: NonResourceAttributes?

    public init(user: UserInfo, resource: ResourceAttributes) {
        self.user = user
        self.resource = resource
        nonResource = nil
    }

    public init(user: UserInfo, nonResource: NonResourceAttributes) {
        self.user = user
        resource = nil
        self.nonResource = nonResource
    }

    public var verb: String { resource?.verb ?? nonResource?.verb ?? "" }
}

public struct ResourceAttributes: Sendable, Equatable {
    public let verb: String
    public let group: String
    public let version: String
    public let resource: String
    public let subresource: String?
    public let namespace: String?
    public let name: String?

    public init(verb: String, group: String, version: String, resource: String, subresource: String?, namespace: String?, name: String?) {
        self.verb = verb
        self.group = group
        self.version = version
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }
}

public struct NonResourceAttributes: Sendable, Equatable {
    public let verb: String
    public let path: String

    public init(verb: String, path: String) {
        self.verb = verb
        self.path = path
    }
}

public struct AuthorizationDecision: Sendable, Equatable {
    public let allowed: Bool
    /// Why, as `SubjectAccessReview` status reports it (empty when the authorizer gives none).
    public let reason: String

    public init(allowed: Bool, reason: String = "") {
        self.allowed = allowed
        self.reason = reason
    }
}

/// Rules in RBAC's shape, as `SelfSubjectRulesReview` reports them.
public struct AuthorizationRules: Sendable {
    public struct ResourceRule: Sendable {
        public let verbs: [String]
        public let apiGroups: [String]
        public let resources: [String]
        public let resourceNames: [String]
    }

    public struct NonResourceRule: Sendable {
        public let verbs: [String]
        public let nonResourceURLs: [String]
    }

    public let resourceRules: [ResourceRule]
    public let nonResourceRules: [NonResourceRule]
    public let incomplete: Bool

    public static let none = AuthorizationRules(resourceRules: [], nonResourceRules: [], incomplete: false)
}

/// Members of `system:masters` may do anything, whatever RBAC says, as kube-apiserver's privileged-group
/// authorizer allows. Everyone else, the control plane's own components included, is for the node
/// authorizer, RBAC and EKS's access policies, after it in the chain.
public struct MastersAuthorizer: Authorizer {
    public init() {}

    public static func isPrivileged(_ user: UserInfo) -> Bool {
        user.groups.contains("system:masters")
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        AuthorizationDecision(allowed: Self.isPrivileged(request.user))
    }

    /// What the privileged may do shows in RBAC's rules (`cluster-admin` is bound to `system:masters`).
    public func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules { .none }
}
