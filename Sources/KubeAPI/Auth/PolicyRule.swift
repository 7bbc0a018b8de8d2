/// One rule of a Role or ClusterRole (and of an EKS access policy, which has RBAC's shape): the verbs it
/// allows on resources of API groups, optionally only on some names, or on non-resource URLs.
public struct PolicyRule: Sendable, Equatable {
    public var verbs: [String]
    public var apiGroups: [String]
    public var resources: [String]
    public var resourceNames: [String]
    public var nonResourceURLs: [String]

    public init(verbs: [String], apiGroups: [String] = [], resources: [String] = [], resourceNames: [String] = [],
                nonResourceURLs: [String] = []) {
        self.verbs = verbs
        self.apiGroups = apiGroups
        self.resources = resources
        self.resourceNames = resourceNames
        self.nonResourceURLs = nonResourceURLs
    }

    /// Whether this rule allows the request, by RBAC's matching: `*` matches any verb, group or resource,
    /// `*/sub` any resource's subresource `sub`; a URL ending in `*` matches by prefix.
    public func allows(_ request: AuthorizationRequest) -> Bool {
        if let resource = request.resource { return allows(resource) }
        if let nonResource = request.nonResource { return allows(nonResource) }
        return false
    }

    public func allows(_ attributes: ResourceAttributes) -> Bool {
        guard matchesVerb(attributes.verb),
              apiGroups.contains(where: { $0 == "*" || $0 == attributes.group }) else { return false }
        let combined = attributes.subresource.map { "\(attributes.resource)/\($0)" } ?? attributes.resource
        let resourceMatches = resources.contains { rule in
            rule == "*" || rule == combined
                || (attributes.subresource.map { rule == "*/\($0)" } ?? false)
        }
        guard resourceMatches else { return false }
        return resourceNames.isEmpty || resourceNames.contains(attributes.name ?? "\u{0}")
    }

    public func allows(_ attributes: NonResourceAttributes) -> Bool {
        guard matchesVerb(attributes.verb) else { return false }
        return nonResourceURLs.contains { url in
            url == "*" || url == attributes.path || (url.hasSuffix("*") && attributes.path.hasPrefix(url.dropLast()))
        }
    }

    private func matchesVerb(_ verb: String) -> Bool {
        verbs.contains { $0 == "*" || $0 == verb }
    }
}

extension AuthorizationRules {
    /// Rules as `SelfSubjectRulesReview` lists them: resource rules first, then non-resource rules.
    public init(_ rules: [PolicyRule], incomplete: Bool = false) {
        self.init(
            resourceRules: rules.filter { $0.nonResourceURLs.isEmpty }.map {
                ResourceRule(verbs: $0.verbs, apiGroups: $0.apiGroups, resources: $0.resources, resourceNames: $0.resourceNames)
            },
            nonResourceRules: rules.filter { !$0.nonResourceURLs.isEmpty }.map {
                NonResourceRule(verbs: $0.verbs, nonResourceURLs: $0.nonResourceURLs)
            },
            incomplete: incomplete)
    }

    /// These rules followed by `other`'s, as a union of authorizers reports them.
    public func merged(with other: AuthorizationRules) -> AuthorizationRules {
        AuthorizationRules(resourceRules: resourceRules + other.resourceRules, nonResourceRules: nonResourceRules + other.nonResourceRules,
                           incomplete: incomplete || other.incomplete)
    }
}

/// Authorizers asked in turn, as kube-apiserver's `--authorization-mode` list: the first to allow wins.
public struct AuthorizerChain: Authorizer {
    let authorizers: [any Authorizer]

    public init(_ authorizers: [any Authorizer]) {
        self.authorizers = authorizers
    }

    public func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision {
        var reasons: [String] = []
        for authorizer in authorizers {
            let decision = await authorizer.authorize(request)
            if decision.allowed { return decision }
            if !decision.reason.isEmpty { reasons.append(decision.reason) }
        }
        return AuthorizationDecision(allowed: false, reason: reasons.joined(separator: "; "))
    }

    public func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules {
        var rules = AuthorizationRules.none
        for authorizer in authorizers { rules = rules.merged(with: await authorizer.rules(for: user, namespace: namespace)) }
        return rules
    }
}
