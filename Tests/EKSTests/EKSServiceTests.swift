import Foundation
import RegionStore
import Testing
import VPC
@testable import EKS

/// The EKS operations against a real region database, with transitions driven by hand.
struct EKSServiceTests {
    let eks: EKSService
    let network: RegionNetwork
    let database: RegionDatabase
    let subnets: [SubnetRecord]
    static let role = "arn:aws:iam::000000000000:role/eks"

    init() async throws {
        database = try RegionDatabase(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-eks-\(UUID())"))
        let region = Region(name: "us-east-1", account: "000000000000")
        network = RegionNetwork(database: database, region: region)
        try await network.ensureDefaultVPC()
        eks = EKSService(database: database, network: network, settings: EKSSettings(
            region: region, provisioningDelay: 0, clusterEndpoints: ClusterEndpoints(host: "127.0.0.1")))
        subnets = try await network.describeSubnets(ids: [], filters: [], maxResults: nil, nextToken: nil).items
    }

    func request(_ name: String, subnets: [String]? = nil, version: String? = nil) -> CreateClusterRequest {
        CreateClusterRequest(name: name, version: version, roleArn: Self.role,
                             resourcesVpcConfig: VpcConfigRequest(subnetIds: subnets ?? self.subnets.map(\.subnetId)))
    }

    func activeCluster(_ name: String) async throws -> Cluster {
        _ = try await eks.createCluster(request(name))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        return try await eks.describeCluster(name: name)
    }

    func recordCount() async throws -> Int {
        try await database.read { reader in
            try reader.count(ClusterRecord.self) + reader.count(NodegroupRecord.self) + reader.count(UpdateRecord.self)
                + reader.count(SecurityGroupRecord.self)
        }
    }

    /// Each cluster holds a port of its own, from the range and free here; a deleted cluster's port is free again.
    @Test func clustersHoldPortsOfTheirOwn() async throws {
        let region = Region(name: "us-east-1", account: "000000000000")
        let busy: Set<Int> = [30_001]
        let narrow = EKSService(database: database, network: network, settings: EKSSettings(
            region: region, provisioningDelay: 0,
            clusterEndpoints: ClusterEndpoints(host: "127.0.0.1", ports: 30_000...30_002, isFree: { !busy.contains($0) })))
        for name in ["one", "two"] { _ = try await narrow.createCluster(request(name)) }
        try await narrow.advanceDueTransitions(now: Date().addingTimeInterval(1))
        let ports = try await Set(["one", "two"].asyncMap { try await narrow.describeCluster(name: $0).endpoint })
        #expect(ports == ["https://127.0.0.1:30000", "https://127.0.0.1:30002"])
        await #expect(throws: EKSError("ServerException", status: 500, "No port is free for the cluster's endpoint.", clusterName: "three")) {
            try await narrow.createCluster(request("three"))
        }
        _ = try await narrow.deleteCluster(name: "one")
        try await narrow.advanceDueTransitions(now: Date().addingTimeInterval(1))
        _ = try await narrow.createCluster(request("three"))
    }

    @Test func clusterIsCreatedThenBecomesActiveWithItsEndpointAndCA() async throws {
        let created = try await eks.createCluster(request("demo"))
        #expect(created.status == .CREATING)
        #expect(created.endpoint == nil && created.certificateAuthority.data == nil)
        #expect(created.version == "1.34" && created.platformVersion == "eks.9")
        #expect(created.kubernetesNetworkConfig.serviceIpv4Cidr == "10.100.0.0/16")
        #expect(created.resourcesVpcConfig.vpcId == subnets[0].vpcId)
        #expect(created.accessConfig.authenticationMode == .CONFIG_MAP)

        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        let active = try await eks.describeCluster(name: "demo")
        #expect(active.status == .ACTIVE)
        let endpoint = try #require(active.endpoint)
        let port = try #require(URLComponents(string: endpoint)?.port)
        #expect(endpoint == "https://127.0.0.1:\(port)" && (20_000...32_767).contains(port))
        let data = try #require(active.certificateAuthority.data)
        let pem = String(decoding: try #require(Data(base64Encoded: data)), as: UTF8.self)
        #expect(pem.hasPrefix("-----BEGIN CERTIFICATE-----"))
        // EKS's issuer form, at the cluster's own endpoint, which serves its discovery documents.
        #expect(active.identity?.oidc.issuer.hasPrefix("\(endpoint)/id/") == true)
        #expect(active.identity?.oidc.issuer.count == "\(endpoint)/id/".count + 32)
        let groups = try await network.describeSecurityGroups(ids: [active.resourcesVpcConfig.clusterSecurityGroupId], names: [],
                                                              filters: [], maxResults: nil, nextToken: nil)
        #expect(groups.items.first?.groupName.hasPrefix("eks-cluster-sg-demo-") == true)
    }

    @Test func badCreateRequestsAreRefusedAndChangeNothing() async throws {
        let before = try await recordCount()
        await #expect(throws: EKSError.invalidParameter("Subnets specified must be in at least two different AZs", cluster: "one-az")) {
            try await eks.createCluster(request("one-az", subnets: [subnets[0].subnetId]))
        }
        await #expect(throws: EKSError.invalidParameter("The subnet ID 'subnet-nope' does not exist")) {
            try await eks.createCluster(request("ghost", subnets: [subnets[0].subnetId, "subnet-nope"]))
        }
        await #expect(throws: EKSError.self) { try await eks.createCluster(request("old", version: "1.20")) }
        await #expect(throws: EKSError.self) { try await eks.createCluster(request("bad name!")) }
        #expect(try await recordCount() == before)

        _ = try await eks.createCluster(request("twice"))
        await #expect(throws: EKSError.inUse("Cluster already exists with name: twice", cluster: "twice")) {
            try await eks.createCluster(request("twice"))
        }
    }

    @Test func clusterWithNodegroupsCannotBeDeleted() async throws {
        _ = try await activeCluster("demo")
        let nodegroup = try await eks.createNodegroup(clusterName: "demo", CreateNodegroupRequest(
            nodegroupName: "ng", subnets: subnets.map(\.subnetId), nodeRole: "arn:aws:iam::000000000000:role/node"))
        #expect(nodegroup.status == .CREATING && nodegroup.version == "1.34")
        await #expect(throws: EKSError.inUse("Cluster has nodegroups attached", cluster: "demo")) {
            try await eks.deleteCluster(name: "demo")
        }
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        _ = try await eks.deleteNodegroup(clusterName: "demo", nodegroupName: "ng")
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        #expect(try await eks.deleteCluster(name: "demo").status == .DELETING)
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        await #expect(throws: EKSError.clusterNotFound("demo")) { try await eks.describeCluster(name: "demo") }
        // Everything the cluster held is released: its subnets can go.
        try await network.deleteSubnet(id: subnets[0].subnetId)
    }

    @Test func versionUpgradesGoOneMinorAtATimeAndOneUpdateAtATime() async throws {
        _ = try await eks.createCluster(request("old", version: "1.31"))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        await #expect(throws: EKSError.invalidParameter("Unsupported Kubernetes minor version update from 1.31 to 1.33", cluster: "old")) {
            try await eks.updateClusterVersion(name: "old", UpdateClusterVersionRequest(version: "1.33"))
        }
        let update = try await eks.updateClusterVersion(name: "old", UpdateClusterVersionRequest(version: "1.32"))
        #expect(update.status == .InProgress && update.type == .VersionUpdate)
        #expect(try await eks.describeCluster(name: "old").status == .UPDATING)
        await #expect(throws: EKSError.self) {
            try await eks.updateClusterConfig(name: "old", UpdateClusterConfigRequest(
                logging: Logging(clusterLogging: [LogSetup(types: [.api], enabled: true)])))
        }
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        let done = try await eks.describeUpdate(name: "old", updateId: update.id, nodegroupName: nil)
        #expect(done.status == .Successful)
        let cluster = try await eks.describeCluster(name: "old")
        #expect(cluster.status == .ACTIVE && cluster.version == "1.32")
        #expect(try await eks.listUpdates(name: "old", nodegroupName: nil, maxResults: nil, nextToken: nil).items == [update.id])
    }

    @Test func nodegroupsNeverRunNewerThanTheirCluster() async throws {
        _ = try await eks.createCluster(request("c", version: "1.32"))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        await #expect(throws: EKSError.self) {
            try await eks.createNodegroup(clusterName: "c", CreateNodegroupRequest(
                nodegroupName: "ng", subnets: [subnets[0].subnetId], nodeRole: "arn:aws:iam::000000000000:role/node", version: "1.33"))
        }
        _ = try await eks.createNodegroup(clusterName: "c", CreateNodegroupRequest(
            nodegroupName: "ng", subnets: [subnets[0].subnetId], nodeRole: "arn:aws:iam::000000000000:role/node", version: "1.31"))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        await #expect(throws: EKSError.self) {
            try await eks.updateNodegroupVersion(clusterName: "c", nodegroupName: "ng", UpdateNodegroupVersionRequest(version: "1.33"))
        }
        _ = try await eks.updateNodegroupVersion(clusterName: "c", nodegroupName: "ng", UpdateNodegroupVersionRequest())
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        let nodegroup = try await eks.describeNodegroup(clusterName: "c", nodegroupName: "ng")
        #expect(nodegroup.version == "1.32" && nodegroup.status == .ACTIVE)
    }

    @Test func listsPageWithTokens() async throws {
        for name in ["a", "b", "c"] { _ = try await eks.createCluster(request(name)) }
        let first = try await eks.listClusters(maxResults: 2, nextToken: nil)
        #expect(first.items == ["a", "b"])
        let second = try await eks.listClusters(maxResults: 2, nextToken: first.nextToken)
        #expect(second.items == ["c"] && second.nextToken == nil)
        await #expect(throws: EKSError.self) { try await eks.listClusters(maxResults: 101, nextToken: nil) }
    }

    @Test func tagsFollowTheResourceARN() async throws {
        let cluster = try await activeCluster("t")
        try await eks.tagResource(arn: cluster.arn, tags: ["team": "a", "env": "dev"])
        try await eks.untagResource(arn: cluster.arn, tagKeys: ["env"])
        #expect(try await eks.listTagsForResource(arn: cluster.arn) == ["team": "a"])
        await #expect(throws: EKSError.tagTargetNotFound("arn:aws:eks:us-east-1:000000000000:cluster/none")) {
            try await eks.listTagsForResource(arn: "arn:aws:eks:us-east-1:000000000000:cluster/none")
        }
        await #expect(throws: EKSError.badRequest("Tag keys starting with 'aws:' are reserved for AWS use.")) {
            try await eks.tagResource(arn: cluster.arn, tags: ["aws:x": "1"])
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
