import Foundation
import KubeStore
import KubeModel
import Testing
@testable import KubeAPI

/// Authentication and the default authorizer (privileged groups, then RBAC from the bootstrap policy),
/// against a real store.
struct AuthorizationTests {
    let chain = AuthenticatorChain([ClientCertificateAuthenticator()])
    let registry: Registry
    let server: APIServer
    let authorizer: any Authorizer

    static let jane = UserInfo(name: "jane", groups: ["devs", "system:authenticated"])
    static let admin = UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-rbac-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path))
        try await ClusterBootstrap.run(registry)
        server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        authorizer = server.authorizer
    }

    @Test func certificatesNameUsersAndRequestsWithoutCredentialsAreAnonymous() async {
        let admin = Credentials(clientCertificate: CertificateSubject(commonName: "admin", organizations: ["system:masters"]), bearerToken: nil)
        #expect(await chain.authenticate(admin) == .user(UserInfo(name: "admin", groups: ["system:masters", "system:authenticated"])))
        #expect(await chain.authenticate(Credentials(clientCertificate: nil, bearerToken: nil)) == .user(.anonymous))
        // A token nobody can read, or a certificate without a name, proves nothing.
        #expect(await chain.authenticate(Credentials(clientCertificate: nil, bearerToken: "k8s-aws-v1.x")) == .rejected)
        #expect(await chain.authenticate(Credentials(clientCertificate: CertificateSubject(commonName: nil, organizations: []),
                                                     bearerToken: nil)) == .rejected)
    }

    func allowed(_ user: UserInfo, get path: String) async -> Bool {
        await authorizer.authorize(AuthorizationRequest(user: user, nonResource: NonResourceAttributes(verb: "get", path: path))).allowed
    }

    func allowed(_ user: UserInfo, _ verb: String, _ resource: String, group: String = "", namespace: String? = "default",
                 name: String? = nil, subresource: String? = nil) async -> Bool {
        await authorizer.authorize(AuthorizationRequest(user: user, resource: ResourceAttributes(
            verb: verb, group: group, version: "v1", resource: resource, subresource: subresource, namespace: namespace, name: name))).allowed
    }

    @Test func theBootstrapPolicyOfEveryCluster() async {
        #expect(await allowed(.anonymous, get: "/version"))
        #expect(await allowed(.anonymous, get: "/healthz"))
        #expect(await !allowed(.anonymous, get: "/api"))
        #expect(await !allowed(.anonymous, get: "/openapi/v2"))
        #expect(await allowed(Self.jane, get: "/apis/apps/v1"))
        #expect(await !allowed(Self.jane, get: "/metrics"))
        #expect(await allowed(Self.jane, "create", "selfsubjectaccessreviews", group: "authorization.k8s.io", namespace: nil))
        #expect(await !allowed(Self.jane, "list", "pods"))
        #expect(await !allowed(.anonymous, "create", "selfsubjectaccessreviews", group: "authorization.k8s.io", namespace: nil))
        #expect(await allowed(Self.admin, "delete", "nodes", namespace: nil))
        #expect(await allowed(Self.admin, get: "/metrics"))
        // The scheduler's own role: it binds pods and renews only its own lease.
        let scheduler = UserInfo(name: "system:kube-scheduler", groups: ["system:authenticated"])
        #expect(await allowed(scheduler, "create", "pods/binding"))
        #expect(await allowed(scheduler, "update", "leases", group: "coordination.k8s.io", namespace: "kube-system", name: "kube-scheduler"))
        #expect(await authorizer.rules(for: .anonymous, namespace: "default").resourceRules.isEmpty)
        // system:masters' rules are cluster-admin's, through its binding.
        let rules = await authorizer.rules(for: Self.admin, namespace: "default")
        #expect(rules.resourceRules.contains { $0.verbs == ["*"] && $0.resources == ["*"] })
    }

    @Test func theUserFacingRolesAreAggregatedObjects() async throws {
        let roles = try #require(registry.resources.find(group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles"))
        let view = try await registry.get(roles, namespace: nil, name: "view")
        #expect(view[path: ["aggregationRule", "clusterRoleSelectors"]]?.array?.first?["matchLabels"] == ["rbac.authorization.k8s.io/aggregate-to-view": "true"])
        #expect(view[path: ["metadata", "labels", "kubernetes.io/bootstrapping"]] == "rbac-defaults")
        // Reconciling again changes nothing; a lost rule of a bootstrap role comes back.
        let basic = try await registry.get(roles, namespace: nil, name: "system:basic-user")
        var stripped = basic
        stripped["rules"] = []
        _ = try await registry.update(roles, namespace: nil, name: "system:basic-user", body: stripped)
        try await ClusterBootstrap.run(registry)
        #expect(try await registry.get(roles, namespace: nil, name: "system:basic-user")["rules"] == basic["rules"])
    }

    func apply(_ user: UserInfo, _ path: String, _ body: JSON) async -> APIResponse {
        await server.handle(APIRequest(method: "POST", path: path, query: [:], headers: ["content-type": "application/json"],
                                       body: JSONCoding.encode(body), user: user))
    }

    func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<200 {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    @Test func bindingsGrantTheirRolesAndNothingMayBeGrantedThatIsNotHeld() async throws {
        let role: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": ["name": "pod-reader", "namespace": "default"],
                          "rules": [["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]]]]
        #expect(await apply(Self.admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", role).status == 201)
        let binding: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                             "metadata": ["name": "devs-read", "namespace": "default"],
                             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"],
                             "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"]]]
        #expect(await apply(Self.admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", binding).status == 201)
        #expect(await eventually { await allowed(Self.jane, "list", "pods") })
        #expect(await !allowed(Self.jane, "list", "pods", namespace: "kube-system"))
        #expect(await !allowed(Self.jane, "delete", "pods"))

        // jane may manage roles in default, but not grant more than she holds.
        let manager: JSON = ["apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                             "metadata": ["name": "jane-admin", "namespace": "default"],
                             "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:aggregate-to-admin"],
                             "subjects": [["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "jane"]]]
        #expect(await apply(Self.admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", manager).status == 201)
        #expect(await eventually { await allowed(Self.jane, "create", "roles", group: "rbac.authorization.k8s.io") })
        var greedy = role
        greedy["metadata"] = ["name": "pod-killer", "namespace": "default"]
        greedy["rules"] = [["apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]]]
        let refused = await apply(Self.jane, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", greedy)
        #expect(refused.status == 403)
        guard case .bytes(let bytes) = refused.body else { Issue.record("no body"); return }
        let message = (try? JSONCoding.decode(bytes))?["message"]?.string ?? ""
        #expect(message == """
            roles.rbac.authorization.k8s.io "pod-killer" is forbidden: user "jane" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
            {APIGroups:[""], Resources:["pods"], Verbs:["delete"]}
            """)
        var modest = greedy
        modest["metadata"] = ["name": "pod-getter", "namespace": "default"]
        modest["rules"] = [["apiGroups": [""], "resources": ["pods"], "verbs": ["get"]]]
        #expect(await apply(Self.jane, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles", modest).status == 201)
        // Binding cluster-admin would grant what she lacks.
        var escalating = binding
        escalating["metadata"] = ["name": "jane-everything", "namespace": "default"]
        escalating["roleRef"] = ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"]
        #expect(await apply(Self.jane, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", escalating).status == 403)
        var fine = binding
        fine["metadata"] = ["name": "more-readers", "namespace": "default"]
        #expect(await apply(Self.jane, "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings", fine).status == 201)
    }

    @Test func escalationCoverage() {
        let held = [PolicyRule(verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"]),
                    PolicyRule(verbs: ["*"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"]),
                    PolicyRule(verbs: ["get"], nonResourceURLs: ["/logs/*"])]
        #expect(Escalation.uncovered([PolicyRule(verbs: ["get"], apiGroups: [""], resources: ["pods", "services/status"])], by: held).isEmpty)
        #expect(Escalation.uncovered([PolicyRule(verbs: ["get", "watch"], apiGroups: [""], resources: ["pods"])], by: held)
                == [PolicyRule(verbs: ["watch"], apiGroups: [""], resources: ["pods"])])
        // A wildcard grant needs a held wildcard.
        #expect(Escalation.uncovered([PolicyRule(verbs: ["*"], apiGroups: [""], resources: ["pods"])], by: held).count == 1)
        #expect(Escalation.uncovered([PolicyRule(verbs: ["update"], apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"])], by: held).isEmpty)
        #expect(Escalation.uncovered([PolicyRule(verbs: ["update"], apiGroups: ["apps"], resources: ["deployments"])], by: held).count == 1)
        #expect(Escalation.uncovered([PolicyRule(verbs: ["get"], nonResourceURLs: ["/logs/kube"])], by: held).isEmpty)
        #expect(Escalation.compactString(PolicyRule(verbs: ["get"], nonResourceURLs: ["/metrics"])) == "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}")
    }

    @Test func kubeletsGetTheNodeRulesForThemselvesOnly() async {
        let node = UserInfo(name: "system:node:ip-10-0-0-1.ec2.internal", groups: ["system:nodes", "system:authenticated"])
        #expect(await allowed(node, "list", "pods", namespace: nil))
        #expect(await allowed(node, "update", "nodes", namespace: nil, name: "ip-10-0-0-1.ec2.internal"))
        #expect(await !allowed(node, "update", "nodes", namespace: nil, name: "ip-10-0-0-2.ec2.internal"))
        #expect(await allowed(node, "update", "leases", group: "coordination.k8s.io", namespace: "kube-node-lease", name: "ip-10-0-0-1.ec2.internal"))
        #expect(await !allowed(node, "delete", "leases", group: "coordination.k8s.io", namespace: "kube-node-lease", name: "ip-10-0-0-2.ec2.internal"))
        #expect(await !allowed(node, "delete", "nodes", namespace: nil, name: "ip-10-0-0-1.ec2.internal"))
        #expect(await !allowed(node, "list", "secrets"))
        // Not in system:nodes, a name alone is nobody's kubelet.
        #expect(await !allowed(UserInfo(name: "system:node:x", groups: ["system:authenticated"]), "list", "pods", namespace: nil))
    }

    @Test func aKubeletReadsOnlyWhatItsOwnPodsUseAndChangesOnlyThem() async throws {
        let node = UserInfo(name: "system:node:n1", groups: ["system:nodes", "system:authenticated"])
        let pods = try #require(registry.resources.find(group: "", version: "v1", resource: "pods"))
        let pod: (String, String) -> JSON = { name, nodeName in
            ["metadata": ["name": .string(name), "namespace": "default"], "spec": [
                "nodeName": .string(nodeName), "serviceAccountName": "builder", "imagePullSecrets": [["name": "registry"]],
                "containers": [["name": "c", "image": "x", "envFrom": [["configMapRef": ["name": "settings"]]],
                                "env": [["name": "P", "valueFrom": ["secretKeyRef": ["name": "password", "key": "p"]]]]]],
                "volumes": [["name": "data", "persistentVolumeClaim": ["claimName": "data"]],
                            ["name": "cert", "projected": ["sources": [["secret": ["name": "tls"]]]]]],
            ]]
        }
        let accounts = try #require(registry.resources.find(group: "", version: "v1", resource: "serviceaccounts"))
        _ = try await registry.create(accounts, namespace: "default", body: ["metadata": ["name": "builder"]])
        _ = try await registry.create(pods, namespace: "default", body: pod("mine", "n1"))
        _ = try await registry.create(pods, namespace: "default", body: pod("theirs", "n2"))
        let cached = registry.cached(pods)
        while cached.get(ObjectKey(namespace: "default", name: "theirs")) == nil { try await Task.sleep(for: .milliseconds(5)) }

        for secret in ["registry", "password", "tls"] { #expect(await allowed(node, "get", "secrets", name: secret), "\(secret)") }
        #expect(await allowed(node, "get", "configmaps", name: "settings"))
        #expect(await allowed(node, "get", "persistentvolumeclaims", name: "data"))
        #expect(await allowed(node, "create", "serviceaccounts", name: "builder", subresource: "token"))
        #expect(await !allowed(node, "get", "secrets", name: "someone-elses"))
        #expect(await !allowed(node, "get", "configmaps", namespace: "kube-system", name: "settings"))
        #expect(await !allowed(node, "create", "serviceaccounts", name: "default", subresource: "token"))
        #expect(await allowed(node, "patch", "pods", name: "mine", subresource: "status"))
        #expect(await !allowed(node, "patch", "pods", name: "theirs", subresource: "status"))
        #expect(await !allowed(node, "delete", "pods", name: "theirs"))
        let refusal = await authorizer.authorize(AuthorizationRequest(user: node, resource: ResourceAttributes(
            verb: "get", group: "", version: "v1", resource: "secrets", subresource: nil, namespace: "default", name: "x")))
        #expect(refusal.reason == "no relationship found between node 'n1' and this object")
    }
}
