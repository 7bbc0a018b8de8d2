import Foundation
import RegionStore
import Testing
import VPC
@testable import EKS

/// CreateCluster's and CreateNodegroup's newer inputs: honoured, refused with EKS's error, or reflected.
struct ClusterFidelityTests {
    let eks: EKSService
    let subnets: [String]
    static let role = "arn:aws:iam::000000000000:role/eks"

    init() async throws {
        let database = try RegionDatabase(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-fidelity-\(UUID())"))
        let region = Region(name: "us-east-1", account: "000000000000")
        let network = RegionNetwork(database: database, region: region)
        try await network.ensureDefaultVPC()
        eks = EKSService(database: database, network: network,
                         settings: EKSSettings(region: region, provisioningDelay: 0, clusterEndpoints: ClusterEndpoints(host: "127.0.0.1")))
        subnets = try await network.describeSubnets(ids: [], filters: [], maxResults: nil, nextToken: nil).items.map(\.subnetId)
    }

    func request(_ name: String) -> CreateClusterRequest {
        CreateClusterRequest(name: name, roleArn: Self.role, resourcesVpcConfig: VpcConfigRequest(subnetIds: subnets))
    }

    @Test func autoModeIsAllOrNothing() async throws {
        var partial = request("partial")
        partial.computeConfig = ComputeConfig(enabled: true, nodePools: ["general-purpose"], nodeRoleArn: "arn:aws:iam::000000000000:role/node")
        partial.accessConfig = CreateAccessConfigRequest(authenticationMode: .API)
        await #expect(throws: EKSError.self) { try await eks.createCluster(partial) }

        var auto = partial
        auto.name = "auto"
        auto.storageConfig = StorageConfig(blockStorage: .init(enabled: true))
        auto.kubernetesNetworkConfig = KubernetesNetworkConfigRequest(elasticLoadBalancing: ElasticLoadBalancing(enabled: true))
        let cluster = try await eks.createCluster(auto)
        #expect(cluster.computeConfig?.nodePools == ["general-purpose"])
        #expect(cluster.storageConfig?.blockStorage?.enabled == true)
        #expect(cluster.kubernetesNetworkConfig.elasticLoadBalancing.enabled == true)

        var configMap = auto
        configMap.name = "configmap"
        configMap.accessConfig = CreateAccessConfigRequest(authenticationMode: .CONFIG_MAP)
        await #expect(throws: EKSError.self) { try await eks.createCluster(configMap) }
    }

    @Test func remoteNetworksTiersAndOutposts() async throws {
        var hybrid = request("hybrid")
        hybrid.remoteNetworkConfig = RemoteNetworkConfig(remoteNodeNetworks: [.init(cidrs: ["10.80.0.0/16"])],
                                                         remotePodNetworks: [.init(cidrs: ["10.81.0.0/16"])])
        hybrid.controlPlaneScalingConfig = ControlPlaneScalingConfig(tier: "tier-xl")
        let cluster = try await eks.createCluster(hybrid)
        #expect(cluster.remoteNetworkConfig?.remoteNodeNetworks?.first?.cidrs == ["10.80.0.0/16"])
        #expect(cluster.controlPlaneScalingConfig?.tier == "tier-xl")

        var overlapping = request("overlap")
        overlapping.remoteNetworkConfig = RemoteNetworkConfig(remoteNodeNetworks: [.init(cidrs: ["172.31.0.0/24"])], remotePodNetworks: nil)
        await #expect(throws: EKSError.self) { try await eks.createCluster(overlapping) }
        var public_ = request("public")
        public_.remoteNetworkConfig = RemoteNetworkConfig(remoteNodeNetworks: [.init(cidrs: ["8.8.0.0/16"])], remotePodNetworks: nil)
        await #expect(throws: EKSError.self) { try await eks.createCluster(public_) }
        var tier = request("tier")
        tier.controlPlaneScalingConfig = ControlPlaneScalingConfig(tier: "huge")
        await #expect(throws: EKSError.self) { try await eks.createCluster(tier) }
        var outpost = request("outpost")
        outpost.outpostConfig = OutpostConfigRequest(outpostArns: ["arn:aws:outposts:us-east-1:000000000000:outpost/op-0123456789abcdef0"],
                                                     controlPlaneInstanceType: "m5.large")
        await #expect(throws: EKSError.self) { try await eks.createCluster(outpost) }
        #expect(try await eks.listClusters(maxResults: nil, nextToken: nil).items == ["hybrid"])
    }

    @Test func endpointAccessAndSubnetsAreSeparateUpdates() async throws {
        _ = try await eks.createCluster(request("demo"))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        await #expect(throws: EKSError.invalidParameter("Only one type of update can be allowed.", cluster: "demo")) {
            try await eks.updateClusterConfig(name: "demo", UpdateClusterConfigRequest(resourcesVpcConfig: VpcConfigRequest(
                subnetIds: subnets, endpointPrivateAccess: true)))
        }
    }

    @Test func nodeRepairAndWarmPoolsAreCheckedAndShown() async throws {
        _ = try await eks.createCluster(request("nodes"))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        var both = CreateNodegroupRequest(nodegroupName: "bad", subnets: subnets, nodeRole: "arn:aws:iam::000000000000:role/node")
        both.nodeRepairConfig = NodeRepairConfig(enabled: true, maxUnhealthyNodeThresholdCount: 2, maxUnhealthyNodeThresholdPercentage: 20)
        await #expect(throws: EKSError.self) { try await eks.createNodegroup(clusterName: "nodes", both) }
        var good = CreateNodegroupRequest(nodegroupName: "good", subnets: subnets, nodeRole: "arn:aws:iam::000000000000:role/node")
        good.nodeRepairConfig = NodeRepairConfig(enabled: true, maxUnhealthyNodeThresholdPercentage: 20)
        good.warmPoolConfig = WarmPoolConfig(enabled: true, minSize: 1, maxGroupPreparedCapacity: 2, poolState: "STOPPED")
        let nodegroup = try await eks.createNodegroup(clusterName: "nodes", good)
        #expect(nodegroup.nodeRepairConfig?.maxUnhealthyNodeThresholdPercentage == 20)
        #expect(nodegroup.warmPoolConfig?.poolState == "STOPPED")
    }

    @Test func releaseVersionsComeFromTheVersionsTable() async throws {
        _ = try await eks.createCluster(request("amis"))
        try await eks.advanceDueTransitions(now: Date().addingTimeInterval(1))
        var made = CreateNodegroupRequest(nodegroupName: "bogus", subnets: subnets, nodeRole: "arn:aws:iam::000000000000:role/node")
        made.releaseVersion = "1.34.1-20200101"
        await #expect(throws: EKSError.invalidParameter("Requested release version 1.34.1-20200101 is not valid for kubernetes version 1.34.",
                                                        nodegroup: "bogus")) {
            try await eks.createNodegroup(clusterName: "amis", made)
        }
        let releases = KubernetesVersions.default.releaseVersions
        #expect(releases.count >= 2 && releases[0] == KubernetesVersions.default.releaseVersion)
        made.nodegroupName = "older"
        made.releaseVersion = releases[1]
        #expect(try await eks.createNodegroup(clusterName: "amis", made).releaseVersion == releases[1])
    }
}
