import Foundation
import PKI
import RegionStore
import VPC

public struct VpcConfigRequest: Codable, Sendable {
    public var subnetIds: [String]?
    public var securityGroupIds: [String]?
    public var endpointPublicAccess: Bool?
    public var endpointPrivateAccess: Bool?
    public var publicAccessCidrs: [String]?
}

public struct KubernetesNetworkConfigRequest: Codable, Sendable {
    public var serviceIpv4Cidr: String?
    public var ipFamily: String?
    public var elasticLoadBalancing: ElasticLoadBalancing?
}

public struct CreateAccessConfigRequest: Codable, Sendable {
    public var bootstrapClusterCreatorAdminPermissions: Bool?
    public var authenticationMode: AuthenticationMode?
}

public struct CreateClusterRequest: Codable, Sendable {
    public var name: String
    public var version: String?
    public var roleArn: String
    public var resourcesVpcConfig: VpcConfigRequest
    public var kubernetesNetworkConfig: KubernetesNetworkConfigRequest?
    public var logging: Logging?
    public var clientRequestToken: String?
    public var tags: [String: String]?
    public var encryptionConfig: [EncryptionConfig]?
    public var accessConfig: CreateAccessConfigRequest?
    public var upgradePolicy: UpgradePolicy?
    public var zonalShiftConfig: ZonalShiftConfig?
    public var deletionProtection: Bool?
    /// false leaves vpc-cni, kube-proxy and coredns out of the new cluster (add them as add-ons).
    public var bootstrapSelfManagedAddons: Bool?
    public var computeConfig: ComputeConfig?
    public var storageConfig: StorageConfig?
    public var remoteNetworkConfig: RemoteNetworkConfig?
    public var controlPlaneScalingConfig: ControlPlaneScalingConfig?
    public var outpostConfig: OutpostConfigRequest?
}

extension EKSService {
    /// - Parameter creatorArn: the caller's IAM ARN; with `bootstrapClusterCreatorAdminPermissions` it is the cluster's admin.
    public func createCluster(_ input: CreateClusterRequest, creatorArn: String? = nil) async throws -> Cluster {
        let name = input.name
        try Validation.name(name, field: "Cluster name", maxLength: 100)
        guard let version = KubernetesVersions.named(input.version ?? KubernetesVersions.default.version) else {
            throw EKSError.invalidParameter(
                "Unsupported Kubernetes version: \(input.version ?? ""). Supported versions: \(KubernetesVersions.all.map(\.version).joined(separator: ", ")).",
                cluster: name)
        }
        try Validation.roleArn(input.roleArn, field: "roleArn")
        try Validation.tags(input.tags ?? [:]) { EKSError.invalidParameter($0, cluster: name) }
        try Validation.cidrs(input.resourcesVpcConfig.publicAccessCidrs ?? [], field: "publicAccessCidrs")
        try Self.validateEncryption(input.encryptionConfig, cluster: name)
        try await checkEncryptionKey(input.encryptionConfig, cluster: name)
        if let ipFamily = input.kubernetesNetworkConfig?.ipFamily, ipFamily != "ipv4" {
            throw EKSError.invalidParameter("ipFamily '\(ipFamily)' is not supported: Skiff clusters are ipv4.", cluster: name)
        }
        try Self.checkAutoMode(input, cluster: name)
        if let tier = input.controlPlaneScalingConfig?.tier,
           !["standard", "tier-xl", "tier-2xl", "tier-4xl", "tier-8xl"].contains(tier) {
            throw EKSError.invalidParameter("controlPlaneScalingConfig.tier \(tier) is not one of standard, tier-xl, tier-2xl, tier-4xl, tier-8xl.",
                                            cluster: name)
        }
        if let outposts = input.outpostConfig {
            // Local clusters run on an Outpost of the account; this region has none.
            throw EKSError.invalidParameter("Outpost \(outposts.outpostArns.first ?? "") does not exist in this account and Region.", cluster: name)
        }
        // Key generation is the slow part; keep it out of the write transaction.
        let certificateAuthority = try CertificateAuthority.create()
        let now = Date()

        let record: ClusterRecord = try await write { [self] tx in
            if let existing = try tx.get(ClusterRecord.self, name) {
                // A retry with the same token gets the cluster it created.
                if let token = input.clientRequestToken, existing.cluster.clientRequestToken == token { return existing }
                throw EKSError.inUse("Cluster already exists with name: \(name)", cluster: name)
            }
            guard try tx.get(RegisteredClusterRecord.self, name) == nil else {
                throw EKSError.inUse("Cluster already exists with name: \(name)", cluster: name)
            }
            let vpc = try clusterVPC(tx, subnetIds: input.resourcesVpcConfig.subnetIds ?? [],
                                     securityGroupIds: input.resourcesVpcConfig.securityGroupIds ?? [], cluster: name)
            let serviceCIDR = try Self.serviceCIDR(input.kubernetesNetworkConfig?.serviceIpv4Cidr, vpc: vpc, cluster: name)
            let arn = clusterArn(name)
            let clusterGroup = try network.createSecurityGroup(
                tx, vpcId: vpc.vpcId, name: "eks-cluster-sg-\(name)-\(Int.random(in: 1_000_000_000...9_999_999_999))",
                description: "EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.",
                tags: [Tag(key: "aws:eks:cluster-name", value: name), Tag(key: "kubernetes.io/cluster/\(name)", value: "owned")])
            try network.attach(tx, subnetIds: input.resourcesVpcConfig.subnetIds ?? [], to: arn)

            let cluster = Cluster(
                name: name, arn: arn, createdAt: now, version: version.version, endpoint: nil, roleArn: input.roleArn,
                resourcesVpcConfig: VpcConfigResponse(
                    subnetIds: input.resourcesVpcConfig.subnetIds ?? [],
                    securityGroupIds: input.resourcesVpcConfig.securityGroupIds ?? [],
                    clusterSecurityGroupId: clusterGroup.groupId, vpcId: vpc.vpcId,
                    endpointPublicAccess: input.resourcesVpcConfig.endpointPublicAccess ?? true,
                    endpointPrivateAccess: input.resourcesVpcConfig.endpointPrivateAccess ?? false,
                    publicAccessCidrs: input.resourcesVpcConfig.publicAccessCidrs ?? ["0.0.0.0/0"]),
                kubernetesNetworkConfig: KubernetesNetworkConfigResponse(
                    serviceIpv4Cidr: serviceCIDR.description, ipFamily: "ipv4",
                    elasticLoadBalancing: input.kubernetesNetworkConfig?.elasticLoadBalancing ?? ElasticLoadBalancing(enabled: false)),
                logging: Logging.canonical(enabled: input.logging?.enabledTypes ?? []),
                identity: nil, status: .CREATING, certificateAuthority: CertificateData(data: nil),
                clientRequestToken: input.clientRequestToken, platformVersion: version.platformVersion,
                tags: input.tags ?? [:], encryptionConfig: input.encryptionConfig,
                health: ClusterHealth(issues: []),
                accessConfig: AccessConfigResponse(
                    bootstrapClusterCreatorAdminPermissions: input.accessConfig?.bootstrapClusterCreatorAdminPermissions ?? true,
                    authenticationMode: input.accessConfig?.authenticationMode ?? .CONFIG_MAP),
                upgradePolicy: input.upgradePolicy ?? UpgradePolicy(supportType: .EXTENDED),
                zonalShiftConfig: input.zonalShiftConfig, deletionProtection: input.deletionProtection ?? false,
                computeConfig: input.computeConfig, storageConfig: input.storageConfig,
                remoteNetworkConfig: try Self.remoteNetworks(input.remoteNetworkConfig, vpc: vpc.cidrBlock, cluster: name),
                controlPlaneScalingConfig: input.controlPlaneScalingConfig)
            let endpoint = "https://\(settings.clusterEndpoints.host):\(try reservePort(tx, cluster: name))"
            let record = ClusterRecord(
                cluster: cluster, certificateAuthority: certificateAuthority,
                endpoint: endpoint,
                // EKS's issuer form, served by the cluster's own API server so that it can be fetched offline.
                oidcIssuer: "\(endpoint)/id/\(Self.randomHex(32))",
                dueAt: dueTime(from: now), creatorArn: creatorArn,
                bootstrapSelfManagedAddons: input.bootstrapSelfManagedAddons)
            try tx.insert(record)
            try insertCreatorEntry(tx, record)
            return record
        }
        transitionScheduled()
        return record.view
    }

    /// EKS Auto Mode is all or nothing: compute, block storage and load balancing enabled together (or none),
    /// with access entries, and node pools need a node role.
    static func checkAutoMode(_ input: CreateClusterRequest, cluster: String) throws {
        let settings = [input.computeConfig?.enabled, input.storageConfig?.blockStorage?.enabled,
                        input.kubernetesNetworkConfig?.elasticLoadBalancing?.enabled]
        guard settings.contains(true) else { return }
        guard settings.allSatisfy({ $0 == true }) else {
            throw EKSError.invalidParameter(
                "For EKS Auto Mode, please ensure that all required configs, including computeConfig, kubernetesNetworkConfig, and blockStorage are all either fully enabled or fully disabled.",
                cluster: cluster)
        }
        guard (input.accessConfig?.authenticationMode ?? .CONFIG_MAP) != .CONFIG_MAP else {
            throw EKSError.invalidParameter("EKS Auto Mode requires the authentication mode API or API_AND_CONFIG_MAP.", cluster: cluster)
        }
        let pools = input.computeConfig?.nodePools ?? []
        for pool in pools where !["general-purpose", "system"].contains(pool) {
            throw EKSError.invalidParameter("Node pool \(pool) is not one of general-purpose, system.", cluster: cluster)
        }
        if !pools.isEmpty {
            guard let role = input.computeConfig?.nodeRoleArn else {
                throw EKSError.invalidParameter("computeConfig.nodeRoleArn is required when nodePools are given.", cluster: cluster)
            }
            try Validation.roleArn(role, field: "computeConfig.nodeRoleArn")
        }
    }

    /// Hybrid nodes' networks: RFC 1918 IPv4 CIDRs, none overlapping another or the VPC.
    static func remoteNetworks(_ config: RemoteNetworkConfig?, vpc: IPv4CIDR, cluster: String) throws -> RemoteNetworkConfig? {
        guard let config else { return nil }
        let private10 = IPv4CIDR("10.0.0.0/8")!, private172 = IPv4CIDR("172.16.0.0/12")!, private192 = IPv4CIDR("192.168.0.0/16")!
        var seen: [IPv4CIDR] = [vpc]
        for text in (config.remoteNodeNetworks ?? []).flatMap({ $0.cidrs ?? [] }) + (config.remotePodNetworks ?? []).flatMap({ $0.cidrs ?? [] }) {
            guard let cidr = IPv4CIDR(text) else {
                throw EKSError.invalidParameter("Remote network CIDR \(text) is not a valid IPv4 CIDR block.", cluster: cluster)
            }
            guard [private10, private172, private192].contains(where: { $0.contains(cidr) }) else {
                throw EKSError.invalidParameter("Remote network CIDR \(text) must be within an RFC 1918 range.", cluster: cluster)
            }
            if let clash = seen.first(where: { $0.overlaps(cidr) }) {
                throw EKSError.invalidParameter("Remote network CIDR \(text) overlaps \(clash).", cluster: cluster)
            }
            seen.append(cidr)
        }
        return config
    }

    /// A port no other cluster holds and nothing here listens on, recorded as this cluster's.
    func reservePort(_ tx: RecordTransaction, cluster: String) throws -> Int {
        let endpoints = settings.clusterEndpoints
        for _ in 0..<512 {
            let port = Int.random(in: endpoints.ports)
            guard try tx.get(ClusterPortRecord.self, String(port)) == nil, endpoints.isFree(port) else { continue }
            try tx.insert(ClusterPortRecord(port: port, clusterName: cluster))
            return port
        }
        throw EKSError("ServerException", status: 500, "No port is free for the cluster's endpoint.", clusterName: cluster)
    }

    public func describeCluster(name: String) async throws -> Cluster {
        try await read { reader in
            guard let record = try reader.get(ClusterRecord.self, name) else { throw EKSError.clusterNotFound(name) }
            return record.view
        }
    }

    /// - Parameter includeRegistered: `include=all`: registered clusters too.
    public func listClusters(maxResults: Int?, nextToken: String?, includeRegistered: Bool = false) async throws -> ListPage<String> {
        let names = try await read { reader in
            try (reader.all(ClusterRecord.self).map(\.cluster.name)
                 + (includeRegistered ? reader.all(RegisteredClusterRecord.self).map(\.cluster.name) : [])).sorted()
        }
        return try Paging.page(names, key: { $0 }, maxResults: maxResults, nextToken: nextToken)
    }

    public func deleteCluster(name: String) async throws -> Cluster {
        let record: ClusterRecord = try await write { [self] tx in
            try refuseRegistered(tx.reader, name)
            var record = try cluster(tx, name)
            if try tx.count(NodegroupRecord.self, keyPrefix: name + "/") > 0 {
                throw EKSError.inUse("Cluster has nodegroups attached", cluster: name)
            }
            if try tx.count(FargateProfileRecord.self, keyPrefix: name + "/") > 0 {
                throw EKSError.inUse("Cluster has fargate profiles attached", cluster: name)
            }
            if record.cluster.deletionProtection {
                throw EKSError.invalidRequest(
                    "Cluster \(name) has deletion protection enabled; disable it with UpdateClusterConfig before deleting the cluster.",
                    cluster: name)
            }
            switch record.cluster.status.step(.deleteRequested) {
            case .moveTo(let status):
                record.cluster.status = status
            case .remove, .refuse:
                throw EKSError.inUse("Cluster \(name) is in \(record.cluster.status.rawValue) state and cannot be deleted now.",
                                     cluster: name)
            }
            record.dueAt = dueTime()
            try tx.save(record)
            return record
        }
        transitionScheduled()
        return record.view
    }

    // MARK: Checks shared with UpdateClusterConfig

    /// The VPC of a cluster's subnets: they must exist, share one VPC and span at least two zones;
    /// the extra security groups must exist in the same VPC.
    func clusterVPC(_ tx: RecordTransaction, subnetIds: [String], securityGroupIds: [String],
                    cluster: String) throws -> VPCRecord {
        guard !subnetIds.isEmpty else {
            throw EKSError.invalidParameter("Subnets specified must be in at least two different AZs", cluster: cluster)
        }
        let subnets = try network.subnets(tx, ids: subnetIds)
        let vpcIds = Set(subnets.map(\.vpcId))
        guard vpcIds.count == 1, let vpcId = vpcIds.first, let vpc = try tx.get(VPCRecord.self, vpcId) else {
            throw EKSError.invalidParameter("Subnets specified must be in the same VPC", cluster: cluster)
        }
        guard Set(subnets.map(\.availabilityZone)).count >= 2 else {
            throw EKSError.invalidParameter("Subnets specified must be in at least two different AZs", cluster: cluster)
        }
        for group in try network.securityGroups(tx, ids: securityGroupIds) where group.vpcId != vpcId {
            throw EKSError.invalidParameter("Security group \(group.groupId) is not in the cluster VPC \(vpcId).", cluster: cluster)
        }
        return vpc
    }

    /// The service CIDR: the one asked for (private, /12 to /24, clear of the VPC), else
    /// EKS's default, 10.100.0.0/16, or 172.20.0.0/16 when the VPC is in 10.0.0.0/8.
    static func serviceCIDR(_ requested: String?, vpc: VPCRecord, cluster: String) throws(EKSError) -> IPv4CIDR {
        guard let requested else {
            return IPv4CIDR("10.0.0.0/8")!.overlaps(vpc.cidrBlock) ? IPv4CIDR("172.20.0.0/16")! : IPv4CIDR("10.100.0.0/16")!
        }
        let privateRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].compactMap(IPv4CIDR.init)
        guard let cidr = IPv4CIDR(requested), (12...24).contains(cidr.prefixLength),
              privateRanges.contains(where: { $0.contains(cidr) }) else {
            throw EKSError.invalidParameter(
                "serviceIpv4Cidr \(requested) is invalid: it must be a private block (10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16) between /12 and /24.",
                cluster: cluster)
        }
        guard !cidr.overlaps(vpc.cidrBlock) else {
            throw EKSError.invalidParameter("serviceIpv4Cidr \(requested) overlaps the VPC CIDR \(vpc.cidrBlock).", cluster: cluster)
        }
        return cidr
    }

    static func validateEncryption(_ configs: [EncryptionConfig]?, cluster: String) throws(EKSError) {
        guard let configs else { return }
        guard configs.count == 1, let config = configs.first else {
            throw EKSError.invalidParameter("Only one encryption configuration is allowed.", cluster: cluster)
        }
        guard config.resources == ["secrets"] else {
            throw EKSError.invalidParameter("Encryption can only be enabled for resources: [secrets].", cluster: cluster)
        }
        guard let keyArn = config.provider?.keyArn, keyArn.hasPrefix("arn:aws"), keyArn.contains(":kms:") else {
            throw EKSError.invalidParameter("Encryption provider keyArn must be a KMS key ARN.", cluster: cluster)
        }
    }

    /// The key must exist and be enabled, as EKS checks it with KMS.
    func checkEncryptionKey(_ configs: [EncryptionConfig]?, cluster: String) async throws {
        guard let keyArn = configs?.first?.provider?.keyArn else { return }
        if let problem = await settings.kmsKeyProblem(keyArn) {
            throw EKSError.invalidParameter("The KMS key \(keyArn) cannot be used: \(problem)", cluster: cluster)
        }
    }

    static func randomHex(_ count: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        return String((0..<count).map { _ in digits.randomElement()! })
    }
}
