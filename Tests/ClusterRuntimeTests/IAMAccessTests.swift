import Auth
import Foundation
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

    @Test func nodeRolesBecomeTheNodeOfTheInstanceTheirSessionIsNamedAfter() throws {
        let nodeRole = "arn:aws:iam::000000000000:role/NodeRole"
        let access = ClusterAccess(authenticationMode: "API", entries: [
            nodeRole: .init(username: "system:node:{{EC2PrivateDNSName}}", groups: ["system:nodes"], type: "EC2_LINUX", policies: []),
        ])
        let session = "arn:aws:sts::000000000000:assumed-role/NodeRole/i-0abc"
        let node = IAMAuthenticator.user(for: IAMPrincipal(arn: session, privateDNSName: "ip-10-0-1-5.ec2.internal"),
                                         accessKeyId: "ASIAX", userId: "AROAX:i-0abc", access: access)
        #expect(node?.name == "system:node:ip-10-0-1-5.ec2.internal" && node?.groups == ["system:nodes", "system:authenticated"])
        // A session not named after a known instance maps to nobody, as the authenticator refuses it.
        let stranger = IAMPrincipal(arn: "arn:aws:sts::000000000000:assumed-role/NodeRole/laptop")
        #expect(IAMAuthenticator.user(for: stranger, accessKeyId: "ASIAX", userId: "AROAX:laptop", access: access) == nil)
        #expect(IAMAuthenticator.unmappedReason(stranger, access: access, awsAuth: AWSAuthConfigMap()).contains("private DNS name"))
        #expect(IAMAuthenticator.unmappedReason(IAMPrincipal(arn: "arn:aws:iam::000000000000:user/x"), access: access,
                                                awsAuth: AWSAuthConfigMap()) == "ARN is not mapped: arn:aws:iam::000000000000:user/x")
    }

    @Test func everyListedAccessPolicyGrantsSomethingAndTheNarrowOnesStayNarrow() async throws {
        for name in AccessPolicies.names { #expect(!AccessPolicyRules.rules(ofPolicy: name).isEmpty, "\(name)") }
        func allows(_ policy: String, _ verb: String, _ group: String, _ resource: String) -> Bool {
            let request = AuthorizationRequest(user: UserInfo(name: "u", groups: []), resource: ResourceAttributes(
                verb: verb, group: group, version: "v1", resource: resource, subresource: nil, namespace: "kube-system", name: nil))
            return AccessPolicyRules.rules(ofPolicy: policy).contains { $0.allows(request) }
        }
        #expect(allows("AmazonEKSHybridPolicy", "list", "", "nodes") && !allows("AmazonEKSHybridPolicy", "get", "", "secrets"))
        #expect(allows("AmazonEKSNetworkingPolicy", "update", "coordination.k8s.io", "leases"))
        #expect(!allows("AmazonEKSNetworkingPolicy", "create", "", "pods"))
        #expect(allows("AmazonEKSAutoNodePolicy", "patch", "", "nodes") && !allows("AmazonEKSAutoNodePolicy", "delete", "", "nodes"))
        #expect(allows("AmazonEKSAdminViewPolicy", "get", "", "secrets") && !allows("AmazonEKSViewPolicy", "get", "", "secrets"))
        #expect(!allows("AmazonEKSClusterInsightsPolicy", "get", "", "secrets"))
    }

    @Test func authenticatorLinesAreLogfmtWithPlainValuesBare() {
        let line = LogfmtLine.line(level: "info", message: "access granted",
                                   fields: ["username": "alice", "groups": "[devs]", "arn": "arn:aws:iam::0:user/alice"],
                                   at: Date(timeIntervalSince1970: 0))
        #expect(line == #"time="1970-01-01T00:00:00Z" level=info msg="access granted" arn="arn:aws:iam::0:user/alice" groups="[devs]" username=alice"#)
        #expect(LogfmtLine.quoted(#"say "hi""#) == #""say \"hi\"""#)
    }
}
