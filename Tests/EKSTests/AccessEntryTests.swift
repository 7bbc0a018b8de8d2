import Foundation
import RegionStore
import Synchronization
import Testing
import VPC
@testable import EKS

/// Access entries and access policies, and what each change tells the cluster's API server.
struct AccessEntryTests {
    /// Remembers the access each cluster's control plane was last given.
    final class RecordingHost: ControlPlaneHost {
        let access = Mutex<[String: ClusterAccess]>([:])
        func ensureRunning(_ spec: ControlPlaneSpec) async throws { access.withLock { $0[spec.clusterName] = spec.access } }
        func remove(clusterName: String) async { access.withLock { $0[clusterName] = nil } }
        func keepOnly(clusterNames: Set<String>) async {}
        func updateAccess(clusterName: String, _ access: ClusterAccess) async { self.access.withLock { $0[clusterName] = access } }
        subscript(cluster: String) -> ClusterAccess? { access.withLock { $0[cluster] } }
    }

    let eks: EKSService
    let host = RecordingHost()
    let subnets: [String]
    static let creator = "arn:aws:iam::000000000000:user/creator"
    static let bob = "arn:aws:iam::000000000000:user/bob"
    static let view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"

    init() async throws {
        let database = try RegionDatabase(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-access-\(UUID())"))
        let region = Region(name: "us-east-1", account: "000000000000")
        let network = RegionNetwork(database: database, region: region)
        try await network.ensureDefaultVPC()
        eks = EKSService(database: database, network: network, settings: EKSSettings(
            region: region, provisioningDelay: 0, clusterEndpoints: ClusterEndpoints(host: "127.0.0.1")), controlPlanes: host)
        subnets = try await network.describeSubnets(ids: [], filters: [], maxResults: nil, nextToken: nil).items.map(\.subnetId)
    }

    func cluster(_ name: String, mode: AuthenticationMode, bootstrap: Bool? = nil) async throws {
        _ = try await eks.createCluster(CreateClusterRequest(
            name: name, roleArn: "arn:aws:iam::000000000000:role/eks", resourcesVpcConfig: VpcConfigRequest(subnetIds: subnets),
            accessConfig: CreateAccessConfigRequest(bootstrapClusterCreatorAdminPermissions: bootstrap, authenticationMode: mode)),
            creatorArn: Self.creator)
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
    }

    func code(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as EKSError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func theCreatorIsAdminThroughAnAccessEntryOrImplicitly() async throws {
        try await cluster("api", mode: .API)
        let entry = try await eks.describeAccessEntry(clusterName: "api", principalArn: Self.creator)
        #expect(entry.username == Self.creator && entry.type == "STANDARD" && entry.kubernetesGroups.isEmpty)
        #expect(entry.accessEntryArn.hasPrefix("arn:aws:eks:us-east-1:000000000000:access-entry/api/user/000000000000/creator/"))
        let policies = try await eks.listAssociatedAccessPolicies(clusterName: "api", principalArn: Self.creator, maxResults: nil, nextToken: nil)
        #expect(policies.items.map(\.policyArn) == ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"])
        #expect(host["api"]?.entries[Self.creator]?.policies == [ClusterAccess.PolicyGrant(policyName: "AmazonEKSClusterAdminPolicy", namespaces: nil)])

        // CONFIG_MAP: no entries at all, the creator is the hidden admin.
        try await cluster("legacy", mode: .CONFIG_MAP)
        #expect(host["legacy"]?.implicitAdminArn == Self.creator)
        #expect(host["legacy"]?.entries.isEmpty == true)
        #expect(await code { _ = try await eks.listAccessEntries(clusterName: "legacy", associatedPolicyArn: nil, maxResults: nil, nextToken: nil) }
                == "InvalidRequestException")

        // Without bootstrap permissions nobody is.
        try await cluster("bare", mode: .API_AND_CONFIG_MAP, bootstrap: false)
        #expect(host["bare"]?.entries.isEmpty == true && host["bare"]?.implicitAdminArn == nil)
    }

    @Test func entriesAndPoliciesReachTheAPIServerAsTheyChange() async throws {
        try await cluster("demo", mode: .API_AND_CONFIG_MAP)
        _ = try await eks.createAccessEntry(clusterName: "demo", CreateAccessEntryRequest(principalArn: Self.bob, kubernetesGroups: ["devs"]))
        #expect(host["demo"]?.entries[Self.bob] == ClusterAccess.Entry(username: Self.bob, groups: ["devs"], type: "STANDARD", policies: []))

        _ = try await eks.associateAccessPolicy(clusterName: "demo", principalArn: Self.bob, AssociateAccessPolicyRequest(
            policyArn: Self.view, accessScope: AccessScope(type: .namespace, namespaces: ["dev", "team-*"])))
        #expect(host["demo"]?.entries[Self.bob]?.policies == [ClusterAccess.PolicyGrant(policyName: "AmazonEKSViewPolicy", namespaces: ["dev", "team-*"])])
        // Associating again replaces the scope.
        _ = try await eks.associateAccessPolicy(clusterName: "demo", principalArn: Self.bob, AssociateAccessPolicyRequest(
            policyArn: Self.view, accessScope: AccessScope(type: .cluster, namespaces: nil)))
        #expect(host["demo"]?.entries[Self.bob]?.policies == [ClusterAccess.PolicyGrant(policyName: "AmazonEKSViewPolicy", namespaces: nil)])
        let filtered = try await eks.listAccessEntries(clusterName: "demo", associatedPolicyArn: Self.view, maxResults: nil, nextToken: nil)
        #expect(filtered.items == [Self.bob])

        _ = try await eks.updateAccessEntry(clusterName: "demo", principalArn: Self.bob, UpdateAccessEntryRequest(kubernetesGroups: ["ops"], username: "bob"))
        #expect(host["demo"]?.entries[Self.bob]?.groups == ["ops"] && host["demo"]?.entries[Self.bob]?.username == "bob")

        try await eks.disassociateAccessPolicy(clusterName: "demo", principalArn: Self.bob, policyArn: Self.view)
        #expect(host["demo"]?.entries[Self.bob]?.policies == [])
        try await eks.deleteAccessEntry(clusterName: "demo", principalArn: Self.bob)
        #expect(host["demo"]?.entries[Self.bob] == nil)
        #expect(await code { _ = try await eks.describeAccessEntry(clusterName: "demo", principalArn: Self.bob) } == "ResourceNotFoundException")
    }

    @Test func badInputIsRefusedAndChangesNothing() async throws {
        try await cluster("demo", mode: .API)
        func create(_ arn: String, groups: [String]? = nil, username: String? = nil, type: String? = nil) async -> String? {
            await code { _ = try await eks.createAccessEntry(clusterName: "demo", CreateAccessEntryRequest(
                principalArn: arn, kubernetesGroups: groups, username: username, type: type)) }
        }
        #expect(await create("bob") == "InvalidParameterException")
        #expect(await create("arn:aws:iam::000000000000:group/devs") == "InvalidParameterException")
        #expect(await create(Self.bob, groups: ["system:masters"]) == "InvalidParameterException")
        #expect(await create(Self.bob, username: "eks:admin") == "InvalidParameterException")
        #expect(await create(Self.bob, type: "WINDOWS") == "InvalidParameterException")
        // Node entries are for roles, and name their own user and group.
        #expect(await create(Self.bob, type: "EC2_LINUX") == "InvalidParameterException")
        #expect(await create("arn:aws:iam::000000000000:role/nodes", groups: ["x"], type: "EC2_LINUX") == "InvalidParameterException")
        #expect(await create(Self.creator) == "ResourceInUseException")
        #expect(await code { _ = try await eks.createAccessEntry(clusterName: "nope", CreateAccessEntryRequest(principalArn: Self.bob)) }
                == "ResourceNotFoundException")
        let entries = try await eks.listAccessEntries(clusterName: "demo", associatedPolicyArn: nil, maxResults: nil, nextToken: nil)
        #expect(entries.items == [Self.creator])

        let node = try await eks.createAccessEntry(clusterName: "demo", CreateAccessEntryRequest(
            principalArn: "arn:aws:iam::000000000000:role/nodes", type: "EC2_LINUX"))
        #expect(node.username == "system:node:{{EC2PrivateDNSName}}" && node.kubernetesGroups == ["system:nodes"])
        func associate(_ principal: String, _ policy: String, _ scope: AccessScope) async -> String? {
            await code { _ = try await eks.associateAccessPolicy(clusterName: "demo", principalArn: principal,
                                                                 AssociateAccessPolicyRequest(policyArn: policy, accessScope: scope)) }
        }
        let cluster = AccessScope(type: .cluster, namespaces: nil)
        #expect(await associate(node.principalArn, Self.view, cluster) == "InvalidRequestException")
        #expect(await associate(Self.creator, "AmazonEKSViewPolicy", cluster) == "InvalidParameterException")
        #expect(await associate(Self.creator, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSNoSuchPolicy", cluster) == "ResourceNotFoundException")
        #expect(await associate(Self.creator, Self.view, AccessScope(type: .namespace, namespaces: [])) == "InvalidParameterException")
        #expect(await associate(Self.creator, Self.view, AccessScope(type: .cluster, namespaces: ["dev"])) == "InvalidParameterException")
        #expect(await associate(Self.bob, Self.view, cluster) == "ResourceNotFoundException")
        // Some policies are for one scope, one entry type or EKS's own roles only.
        let policy = { (name: String) in "arn:aws:eks::aws:cluster-access-policy/\(name)" }
        let devOnly = AccessScope(type: .namespace, namespaces: ["dev"])
        #expect(await associate(Self.creator, policy("AmazonEKSHybridPolicy"), devOnly) == "InvalidParameterException")
        #expect(await associate(Self.creator, policy("AmazonEKSComputeClusterPolicy"), cluster) == "InvalidParameterException")
        #expect(await associate(Self.creator, policy("AmazonEKSAutoNodePolicy"), cluster) == "InvalidRequestException")
        let policies = try await eks.listAssociatedAccessPolicies(clusterName: "demo", principalArn: Self.creator, maxResults: nil, nextToken: nil)
        #expect(policies.items.count == 1)

        let autoNode = try await eks.createAccessEntry(clusterName: "demo", CreateAccessEntryRequest(
            principalArn: "arn:aws:iam::000000000000:role/auto-nodes", type: "EC2"))
        #expect(autoNode.username == "system:node:{{SessionName}}" && autoNode.kubernetesGroups.isEmpty)
        #expect(await associate(autoNode.principalArn, policy("AmazonEKSAutoNodePolicy"), cluster) == nil)
        #expect(await associate(autoNode.principalArn, Self.view, cluster) == "InvalidRequestException")
    }

    @Test func leavingConfigMapModeGivesTheCreatorItsEntry() async throws {
        try await cluster("legacy", mode: .CONFIG_MAP)
        _ = try await eks.updateClusterConfig(name: "legacy", UpdateClusterConfigRequest(accessConfig: UpdateAccessConfigRequest(authenticationMode: .API_AND_CONFIG_MAP)))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        #expect(host["legacy"]?.authenticationMode == "API_AND_CONFIG_MAP")
        #expect(host["legacy"]?.implicitAdminArn == nil)
        #expect(host["legacy"]?.entries[Self.creator]?.policies.map(\.policyName) == ["AmazonEKSClusterAdminPolicy"])
    }

    @Test func theAccessPoliciesEKSHas() throws {
        let page = try eks.listAccessPolicies(maxResults: nil, nextToken: nil)
        #expect(page.items.count == 22 && page.items.map(\.name).contains("AmazonEKSClusterAdminPolicy"))
        #expect(page.items.map(\.name) == page.items.map(\.name).sorted())
        #expect(page.items.allSatisfy { $0.arn == "arn:aws:eks::aws:cluster-access-policy/\($0.name)" })
    }

    @Test func aNodeGroupsRoleGetsAnEC2LinuxEntryUntilItsLastNodeGroupGoes() async throws {
        try await cluster("demo", mode: .API)
        let role = "arn:aws:iam::000000000000:role/nodes"
        for name in ["a", "b"] {
            _ = try await eks.createNodegroup(clusterName: "demo", CreateNodegroupRequest(nodegroupName: name, subnets: [subnets[0]], nodeRole: role))
        }
        let entry = try await eks.describeAccessEntry(clusterName: "demo", principalArn: role)
        #expect(entry.type == "EC2_LINUX" && entry.kubernetesGroups == ["system:nodes"])
        #expect(host["demo"]?.nodeRoles == [role])
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        _ = try await eks.deleteNodegroup(clusterName: "demo", nodegroupName: "a")
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        _ = try await eks.describeAccessEntry(clusterName: "demo", principalArn: role)
        _ = try await eks.deleteNodegroup(clusterName: "demo", nodegroupName: "b")
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        #expect(await code { _ = try await eks.describeAccessEntry(clusterName: "demo", principalArn: role) } == "ResourceNotFoundException")

        // A CONFIG_MAP cluster has no entries: its node roles reach aws-auth instead.
        try await cluster("legacy", mode: .CONFIG_MAP)
        _ = try await eks.createNodegroup(clusterName: "legacy", CreateNodegroupRequest(nodegroupName: "a", subnets: [subnets[0]], nodeRole: role))
        #expect(host["legacy"]?.nodeRoles == [role] && host["legacy"]?.entries.isEmpty == true)
    }

    @Test func podIdentityAssociations() async throws {
        try await cluster("demo", mode: .API)
        let role = "arn:aws:iam::000000000000:role/app"
        let created = try await eks.createPodIdentityAssociation(clusterName: "demo", CreatePodIdentityAssociationRequest(
            namespace: "apps", serviceAccount: "web", roleArn: role))
        #expect(created.associationArn == "arn:aws:eks:us-east-1:000000000000:podidentityassociation/demo/\(created.associationId)")
        #expect(host["demo"]?.podIdentities == ["apps/web": role])
        #expect(await code { _ = try await eks.createPodIdentityAssociation(clusterName: "demo", CreatePodIdentityAssociationRequest(
            namespace: "apps", serviceAccount: "web", roleArn: role)) } == "ResourceInUseException")
        #expect(await code { _ = try await eks.createPodIdentityAssociation(clusterName: "demo", CreatePodIdentityAssociationRequest(
            namespace: "Apps!", serviceAccount: "web", roleArn: role)) } == "InvalidParameterException")
        let other = "arn:aws:iam::000000000000:role/other"
        _ = try await eks.updatePodIdentityAssociation(clusterName: "demo", associationId: created.associationId,
                                                       UpdatePodIdentityAssociationRequest(roleArn: other))
        #expect(host["demo"]?.podIdentities == ["apps/web": other])
        let listed = try await eks.listPodIdentityAssociations(clusterName: "demo", namespace: "apps", serviceAccount: nil, maxResults: nil, nextToken: nil)
        #expect(listed.items.map(\.associationId) == [created.associationId])
        _ = try await eks.deletePodIdentityAssociation(clusterName: "demo", associationId: created.associationId)
        #expect(host["demo"]?.podIdentities.isEmpty == true)
        #expect(await code { _ = try await eks.describePodIdentityAssociation(clusterName: "demo", associationId: created.associationId) }
                == "ResourceNotFoundException")
    }
}
