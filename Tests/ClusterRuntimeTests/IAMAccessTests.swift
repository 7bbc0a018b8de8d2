import Auth
import EKS
import KubeAPI
import KubeModel
import Testing
@testable import ClusterRuntime

/// From an IAM identity to a Kubernetes user, and what its access policies let it do.
struct IAMAccessTests {
    static let bob = "arn:aws:iam::000000000000:user/bob"
    static let deployer = "arn:aws:iam::000000000000:role/ci/deployer"

    static let access = ClusterAccess(authenticationMode: "API_AND_CONFIG_MAP", entries: [
        bob: .init(username: bob, groups: ["devs"], type: "STANDARD",
                   policies: [.init(policyName: "AmazonEKSViewPolicy", namespaces: ["dev", "team-*"])]),
        deployer: .init(username: "deployer:{{SessionName}}", groups: ["ci-{{AccountID}}"], type: "STANDARD",
                        policies: [.init(policyName: "AmazonEKSEditPolicy", namespaces: nil)]),
    ])

    func user(_ arn: String, access: ClusterAccess = IAMAccessTests.access) -> UserInfo? {
        IAMAuthenticator.user(for: IAMPrincipal(arn: arn), accessKeyId: "AKIAX", userId: "AIDAX", access: access)
    }

    @Test func principalsMapAsTheirAccessEntriesSay() throws {
        let bob = try #require(user(Self.bob))
        #expect(bob.name == Self.bob && bob.groups == ["devs", "system:authenticated"])
        #expect(bob.uid == "aws-iam-authenticator:000000000000:AIDAX")
        #expect(bob.extra["canonicalArn"] == [Self.bob] && bob.extra["accessKeyId"] == ["AKIAX"])

        // A role session is its role, whatever the role's path, with the templates filled.
        let session = try #require(user("arn:aws:sts::000000000000:assumed-role/deployer/jane@example.com"))
        #expect(session.name == "deployer:jane-example.com" && session.groups == ["ci-000000000000", "system:authenticated"])
        #expect(session.extra["canonicalArn"] == ["arn:aws:iam::000000000000:role/deployer"])
        #expect(session.extra["sessionName"] == ["jane@example.com"])

        #expect(user("arn:aws:iam::000000000000:user/stranger") == nil)
        #expect(user("arn:aws:iam::111111111111:user/bob") == nil)
        // Access entries count only in the modes with API.
        var configMapOnly = Self.access
        configMapOnly.authenticationMode = "CONFIG_MAP"
        #expect(user(Self.bob, access: configMapOnly) == nil)
        configMapOnly.implicitAdminArn = Self.bob
        #expect(user(Self.bob, access: configMapOnly)?.name == "kubernetes-admin")
        #expect(user(Self.bob, access: configMapOnly)?.groups == ["system:masters", "system:authenticated"])
    }

    func allowed(_ arn: String, _ verb: String, _ resource: String, namespace: String?, group: String = "") async throws -> Bool {
        let subject = try #require(user(arn))
        let authorizer = AccessPolicyAuthorizer(access: ClusterAccessState(Self.access))
        return await authorizer.authorize(AuthorizationRequest(user: subject, resource: ResourceAttributes(
            verb: verb, group: group, version: "v1", resource: resource, subresource: nil, namespace: namespace, name: nil))).allowed
    }

    @Test func accessPoliciesGrantTheirRulesWithinTheirScope() async throws {
        #expect(try await allowed(Self.bob, "list", "pods", namespace: "dev"))
        #expect(try await allowed(Self.bob, "list", "pods", namespace: "team-a"))
        #expect(try await !allowed(Self.bob, "list", "pods", namespace: "default"))
        #expect(try await !allowed(Self.bob, "delete", "pods", namespace: "dev"))
        #expect(try await !allowed(Self.bob, "get", "secrets", namespace: "dev"))
        // A namespace scope grants nothing cluster-wide, not even listing pods of all namespaces.
        #expect(try await !allowed(Self.bob, "list", "pods", namespace: nil))
        let session = "arn:aws:sts::000000000000:assumed-role/deployer/ci"
        #expect(try await allowed(session, "create", "deployments", namespace: "prod", group: "apps"))
        #expect(try await allowed(session, "list", "pods", namespace: nil))
        #expect(try await !allowed(session, "create", "rolebindings", namespace: "prod", group: "rbac.authorization.k8s.io"))

        let authorizer = AccessPolicyAuthorizer(access: ClusterAccessState(Self.access))
        let rules = await authorizer.rules(for: try #require(user(Self.bob)), namespace: "dev")
        #expect(rules.resourceRules.contains { $0.resources.contains("pods") && $0.verbs == ["get", "list", "watch"] })
        #expect(await authorizer.rules(for: try #require(user(Self.bob)), namespace: "default").resourceRules.isEmpty)
    }

    @Test func awsAuthMapsRolesUsersAndAccountsInTheConfigMapModes() throws {
        let configMap: JSON = ["data": [
            "mapRoles": """
                - rolearn: arn:aws:iam::000000000000:role/Deployer
                  username: deploy:{{SessionName}}
                  groups:
                    - system:masters
                - rolearn: not an arn
                """,
            "mapUsers": """
                - userarn: arn:aws:iam::000000000000:user/dave
                  username: dave
                  groups: [viewers]
                """,
            "mapAccounts": """
                - "222222222222"
                """,
        ]]
        let awsAuth = AWSAuthConfigMap(configMap)
        #expect(awsAuth.roles.count == 2 && awsAuth.users.count == 1 && awsAuth.accounts == ["222222222222"])
        let access = ClusterAccess(authenticationMode: "API_AND_CONFIG_MAP")
        func user(_ arn: String, _ access: ClusterAccess = access) -> UserInfo? {
            IAMAuthenticator.user(for: IAMPrincipal(arn: arn), accessKeyId: "AKIAX", userId: "AIDAX", access: access, awsAuth: awsAuth)
        }
        // ARNs compare without case, as the authenticator compares them.
        let session = try #require(user("arn:aws:sts::000000000000:assumed-role/deployer/ci-run"))
        #expect(session.name == "deploy:ci-run" && session.groups == ["system:masters", "system:authenticated"])
        #expect(user("arn:aws:iam::000000000000:user/dave")?.groups == ["viewers", "system:authenticated"])
        #expect(user("arn:aws:iam::222222222222:user/anyone")?.name == "arn:aws:iam::222222222222:user/anyone")
        #expect(user("arn:aws:iam::000000000000:user/erin") == nil)
        // In API mode aws-auth counts for nothing.
        #expect(user("arn:aws:iam::000000000000:user/dave", ClusterAccess(authenticationMode: "API")) == nil)
        // An access entry wins over aws-auth.
        let entry = ClusterAccess(authenticationMode: "API_AND_CONFIG_MAP", entries: [
            "arn:aws:iam::000000000000:user/dave": .init(username: "dave-entry", groups: [], type: "STANDARD", policies: []),
        ])
        #expect(user("arn:aws:iam::000000000000:user/dave", entry)?.name == "dave-entry")
    }
}
