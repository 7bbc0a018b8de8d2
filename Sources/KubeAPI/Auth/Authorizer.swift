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

/// Members of `system:masters` may do anything, as on every Kubernetes cluster; so, until RBAC and its
/// bootstrap roles are enforced, may the control plane's own components (the controller manager and its
/// controllers' service accounts, the scheduler, node agents); every authenticated user
/// may ask what it is and what it may do, and read discovery, as the default roles `system:basic-user` and
/// `system:discovery` allow; anyone, anonymous too, may read health and version (`system:public-info-viewer`).
public struct MastersAuthorizer: Authorizer {
    public init() {}

    static let selfReviews: [(group: String, resource: String)] = [
        ("authorization.k8s.io", "selfsubjectaccessreviews"), ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    ]
    static let publicInfoPaths = ["/healthz", "/livez", "/readyz", "/version", "/version/"]
    static let discoveryPaths = ["/api", "/api/*", "/apis", "/apis/*", "/openapi", "/openapi/*"]
    static let authenticatedPaths = (discoveryPaths + publicInfoPaths).sorted()

    /// The control plane's own identities.
    static func isControlPlaneComponent(_ user: UserInfo) -> Bool {
        ["system:kube-controller-manager", "system:kube-scheduler"].contains(user.name)
            || user.name.hasPrefix("system:serviceaccount:kube-system:") && user.name.hasSuffix("-controller")
            || user.name.hasPrefix("system:node:") && user.groups.contains("system:nodes")
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        let groups = request.user.groups
        if groups.contains("system:masters") || Self.isControlPlaneComponent(request.user) { return AuthorizationDecision(allowed: true) }
        if let path = request.nonResource?.path, request.verb == "get" {
            let paths = groups.contains("system:authenticated") ? Self.authenticatedPaths : Self.publicInfoPaths
            return AuthorizationDecision(allowed: paths.contains { $0.hasSuffix("*") ? path.hasPrefix($0.dropLast()) : path == $0 })
        }
        guard let resource = request.resource, groups.contains("system:authenticated") else { return AuthorizationDecision(allowed: false) }
        let isSelfReview = resource.verb == "create" && Self.selfReviews.contains { $0 == (resource.group, resource.resource) }
        return AuthorizationDecision(allowed: isSelfReview)
    }

    public func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules {
        guard user.groups.contains("system:authenticated") || user.groups.contains("system:masters") else { return .none }
        var resourceRules: [AuthorizationRules.ResourceRule] = [
            .init(verbs: ["create"], apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                  resourceNames: []),
            .init(verbs: ["create"], apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], resourceNames: []),
        ]
        var nonResourceRules: [AuthorizationRules.NonResourceRule] = [.init(verbs: ["get"], nonResourceURLs: Self.authenticatedPaths)]
        if user.groups.contains("system:masters") {
            // What the cluster-admin ClusterRole, bound to system:masters on every cluster, grants.
            resourceRules.insert(.init(verbs: ["*"], apiGroups: ["*"], resources: ["*"], resourceNames: []), at: 0)
            nonResourceRules.insert(.init(verbs: ["*"], nonResourceURLs: ["*"]), at: 0)
        }
        return AuthorizationRules(resourceRules: resourceRules, nonResourceRules: nonResourceRules, incomplete: false)
    }
}
