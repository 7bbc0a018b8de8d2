import Testing
@testable import KubeAPI

/// RBAC's rule matching, case by case, and the user-facing roles built from it.
struct PolicyRuleTests {
    static func request(_ verb: String, _ resource: String, group: String = "", subresource: String? = nil,
                        namespace: String? = "default", name: String? = nil) -> ResourceAttributes {
        ResourceAttributes(verb: verb, group: group, version: "v1", resource: resource, subresource: subresource,
                           namespace: namespace, name: name)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let rule: PolicyRule
        let request: ResourceAttributes
        let allowed: Bool
        var testDescription: String { "\(rule.verbs) \(rule.apiGroups) \(rule.resources) \(rule.resourceNames) ← \(request.verb) \(request.resource)/\(request.subresource ?? "")" }
    }

    static let cases: [Case] = [
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]), request: request("get", "pods"), allowed: true),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]), request: request("list", "pods"), allowed: false),
        Case(rule: PolicyRule(verbs: ["*"], apiGroups: [""], resources: ["pods"]), request: request("deletecollection", "pods"), allowed: true),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]), request: request("get", "pods", group: "apps"), allowed: false),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: ["*"], resources: ["deployments"]), request: request("get", "deployments", group: "apps"), allowed: true),
        // A subresource needs its own rule, `resource/sub` or `*/sub`.
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods"]), request: request("get", "pods", subresource: "log"), allowed: false),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods/log"]), request: request("get", "pods", subresource: "log"), allowed: true),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["*/status"]), request: request("get", "pods", subresource: "status"), allowed: true),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["*/status"]), request: request("get", "pods"), allowed: false),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["*"]), request: request("get", "pods", subresource: "exec"), allowed: true),
        // resourceNames limit a rule to those names; a request without a name (list, create) does not match.
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"]),
             request: request("get", "configmaps", name: "a"), allowed: true),
        Case(rule: PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"]),
             request: request("get", "configmaps", name: "b"), allowed: false),
        Case(rule: PolicyRule(verbs: ["list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"]),
             request: request("list", "configmaps"), allowed: false),
    ]

    @Test(arguments: cases) func resourceRules(_ testCase: Case) {
        #expect(testCase.rule.allows(testCase.request) == testCase.allowed)
    }

    @Test func nonResourceURLs() {
        let rule = PolicyRule(verbs: ["get"], nonResourceURLs: ["/healthz", "/apis/*"])
        #expect(rule.allows(NonResourceAttributes(verb: "get", path: "/healthz")))
        #expect(rule.allows(NonResourceAttributes(verb: "get", path: "/apis/apps/v1")))
        #expect(!rule.allows(NonResourceAttributes(verb: "get", path: "/healthz/etcd")))
        #expect(!rule.allows(NonResourceAttributes(verb: "post", path: "/healthz")))
        // A resource rule never matches a URL, nor a URL rule a resource.
        #expect(!PolicyRule(verbs: ["*"], apiGroups: ["*"], resources: ["*"]).allows(NonResourceAttributes(verb: "get", path: "/metrics")))
        #expect(!rule.allows(Self.request("get", "pods")))
    }

    func allowed(_ rules: [PolicyRule], _ request: ResourceAttributes) -> Bool {
        rules.contains { $0.allows(request) }
    }

    @Test func userFacingRoles() {
        let view = UserFacingRoles.view, edit = UserFacingRoles.edit, admin = UserFacingRoles.admin
        #expect(allowed(view, Self.request("list", "pods")))
        #expect(allowed(view, Self.request("get", "pods", subresource: "log")))
        #expect(!allowed(view, Self.request("get", "secrets")))
        #expect(!allowed(view, Self.request("delete", "pods")))
        #expect(!allowed(view, Self.request("list", "roles", group: "rbac.authorization.k8s.io")))
        #expect(allowed(edit, Self.request("get", "secrets")))
        #expect(allowed(edit, Self.request("create", "deployments", group: "apps")))
        #expect(allowed(edit, Self.request("create", "pods", subresource: "exec")))
        #expect(!allowed(edit, Self.request("create", "rolebindings", group: "rbac.authorization.k8s.io")))
        #expect(allowed(admin, Self.request("create", "rolebindings", group: "rbac.authorization.k8s.io")))
        #expect(!allowed(admin, Self.request("create", "clusterroles", group: "rbac.authorization.k8s.io")))
        #expect(!allowed(admin, Self.request("delete", "nodes", namespace: nil)))
        #expect(allowed(UserFacingRoles.clusterAdmin, Self.request("delete", "nodes", namespace: nil)))
        #expect(allowed(UserFacingRoles.readEverything, Self.request("get", "secrets")))
        #expect(!allowed(UserFacingRoles.readEverything, Self.request("update", "secrets")))
    }

    struct Fixed: Authorizer {
        let allow: Bool
        let reason: String
        func authorize(_ request: AuthorizationRequest) async -> AuthorizationDecision { AuthorizationDecision(allowed: allow, reason: reason) }
        func rules(for user: UserInfo, namespace: String) async -> AuthorizationRules {
            AuthorizationRules([PolicyRule(verbs: [reason], apiGroups: [""], resources: ["pods"])])
        }
    }

    @Test func aChainAllowsWhatAnyOfItsAuthorizersAllows() async {
        let request = AuthorizationRequest(user: UserInfo(name: "u", groups: []), resource: Self.request("get", "pods"))
        #expect(await AuthorizerChain([Fixed(allow: false, reason: "a"), Fixed(allow: true, reason: "b")]).authorize(request)
                == AuthorizationDecision(allowed: true, reason: "b"))
        #expect(await AuthorizerChain([Fixed(allow: false, reason: "a"), Fixed(allow: false, reason: "")]).authorize(request)
                == AuthorizationDecision(allowed: false, reason: "a"))
        let rules = await AuthorizerChain([Fixed(allow: false, reason: "a"), Fixed(allow: true, reason: "b")])
            .rules(for: request.user, namespace: "default")
        #expect(rules.resourceRules.map(\.verbs) == [["a"], ["b"]])
    }
}
