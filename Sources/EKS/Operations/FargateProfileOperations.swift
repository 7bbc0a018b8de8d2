import Foundation
import RegionStore
import VPC

/// Fargate profiles: once ACTIVE, the cluster's pods that a profile's selectors match are scheduled by the
/// `fargate-scheduler`, each onto a Fargate node of its own with an address from one of the profile's subnets.
/// EKS's rules: private subnets of the cluster's VPC, one to five selectors each with a namespace, and one profile
/// of a cluster creating or deleting at a time.
extension EKSService {
    public func createFargateProfile(clusterName: String, _ input: CreateFargateProfileRequest) async throws -> FargateProfile {
        let name = input.fargateProfileName
        let failure: @Sendable (String) -> EKSError = { EKSError.invalidParameter($0, cluster: clusterName) }
        try Validation.name(name, field: "fargateProfileName", maxLength: 100)
        try Validation.roleArn(input.podExecutionRoleArn, field: "podExecutionRoleArn")
        let selectors = input.selectors ?? []
        guard (1...5).contains(selectors.count) else {
            throw failure(selectors.isEmpty ? "Fargate Profile must have at least one selector" : "Fargate Profile can have at most 5 selectors")
        }
        for selector in selectors {
            guard let namespace = selector.namespace, !namespace.isEmpty else {
                throw failure("Fargate Profile selectors must have a namespace")
            }
            guard (selector.labels ?? [:]).count <= 5 else { throw failure("A Fargate Profile selector can have at most 5 labels") }
        }
        if let tags = input.tags { try Validation.tags(tags, error: failure) }
        let profile: FargateProfile = try await write { [self] tx in
            let cluster = try cluster(tx, clusterName)
            let existing = try tx.all(FargateProfileRecord.self, keyPrefix: clusterName + "/")
            if let same = existing.first(where: { $0.profile.fargateProfileName == name }) {
                if let token = input.clientRequestToken, same.clientRequestToken == token { return same.profile }
                throw EKSError.inUse("A Fargate Profile already exists with this name in the cluster.", cluster: clusterName)
            }
            if let busy = existing.first(where: { [.CREATING, .DELETING].contains($0.profile.status) }) {
                throw EKSError.inUse("Cannot create Fargate Profile \(name) because cluster \(clusterName) currently has Fargate profile \(busy.profile.fargateProfileName) in status \(busy.profile.status.rawValue)",
                                     cluster: clusterName)
            }
            guard [.ACTIVE, .UPDATING].contains(cluster.cluster.status) else {
                throw EKSError.invalidRequest("Cluster \(clusterName) is in \(cluster.cluster.status.rawValue) state; Fargate profiles can be created once it is ACTIVE.",
                                              cluster: clusterName)
            }
            // Without subnets, the cluster's private subnets.
            let subnets: [SubnetRecord]
            if let ids = input.subnets, !ids.isEmpty {
                subnets = try network.subnets(tx, ids: ids)
                for subnet in subnets {
                    guard subnet.vpcId == cluster.cluster.resourcesVpcConfig.vpcId else {
                        throw failure("Subnet \(subnet.subnetId) is not in the cluster's VPC \(cluster.cluster.resourcesVpcConfig.vpcId).")
                    }
                    guard !subnet.mapPublicIpOnLaunch else {
                        throw failure("Subnet \(subnet.subnetId) provided in Fargate Profile is not a private subnet")
                    }
                }
            } else {
                subnets = try network.subnets(tx, ids: cluster.cluster.resourcesVpcConfig.subnetIds).filter { !$0.mapPublicIpOnLaunch }
                guard !subnets.isEmpty else {
                    throw failure("The cluster has no private subnets; give the Fargate Profile private subnets of its VPC.")
                }
            }
            let arn = "arn:aws:eks:\(region.name):\(region.account):fargateprofile/\(clusterName)/\(name)/\(UUID().uuidString.lowercased())"
            try network.attach(tx, subnetIds: subnets.map(\.subnetId), to: arn)
            let profile = FargateProfile(fargateProfileName: name, fargateProfileArn: arn, clusterName: clusterName, createdAt: Date(),
                                         podExecutionRoleArn: input.podExecutionRoleArn, subnets: subnets.map(\.subnetId), selectors: selectors,
                                         status: .CREATING, tags: input.tags ?? [:], health: FargateProfileHealth(issues: []))
            try tx.insert(FargateProfileRecord(profile: profile, clientRequestToken: input.clientRequestToken, dueAt: dueTime()))
            return profile
        }
        transitionScheduled()
        return profile
    }

    public func describeFargateProfile(clusterName: String, name: String) async throws -> FargateProfile {
        try await read { [self] reader in try fargateProfile(reader, clusterName, name).profile }
    }

    public func listFargateProfiles(clusterName: String, maxResults: Int?, nextToken: String?) async throws -> ListPage<String> {
        let names: [String] = try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            return try reader.all(FargateProfileRecord.self, keyPrefix: clusterName + "/").map(\.profile.fargateProfileName).sorted()
        }
        return try Paging.page(names, key: { $0 }, maxResults: maxResults, nextToken: nextToken)
    }

    public func deleteFargateProfile(clusterName: String, name: String) async throws -> FargateProfile {
        let profile: FargateProfile = try await write { [self] tx in
            var record = try fargateProfile(tx.reader, clusterName, name)
            if let busy = try tx.all(FargateProfileRecord.self, keyPrefix: clusterName + "/")
                .first(where: { [.CREATING, .DELETING].contains($0.profile.status) }) {
                throw EKSError.inUse("Cannot delete Fargate Profile \(name) because cluster \(clusterName) currently has Fargate profile \(busy.profile.fargateProfileName) in status \(busy.profile.status.rawValue)",
                                     cluster: clusterName)
            }
            record.profile.status = .DELETING
            record.dueAt = dueTime()
            try tx.save(record)
            return record.profile
        }
        transitionScheduled()
        return profile
    }

    private func fargateProfile(_ reader: RecordReader, _ clusterName: String, _ name: String) throws -> FargateProfileRecord {
        guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
        guard let record = try reader.get(FargateProfileRecord.self, FargateProfileRecord.key(cluster: clusterName, name: name)) else {
            throw EKSError("ResourceNotFoundException", status: 404, "No Fargate Profile found with name: \(name).", clusterName: clusterName)
        }
        return record
    }

    /// The ACTIVE profiles, as the cluster's control plane applies them.
    func fargateProfiles(_ reader: RecordReader, clusterName: String) throws -> [FargateProfileSpec] {
        try reader.all(FargateProfileRecord.self, keyPrefix: clusterName + "/").map(\.profile).filter { $0.status == .ACTIVE }
            .sorted { $0.fargateProfileName < $1.fargateProfileName }
            .map { profile in
                let subnets = profile.subnets.compactMap { id in try? reader.get(SubnetRecord.self, id) }
                return FargateProfileSpec(name: profile.fargateProfileName, selectors: profile.selectors,
                                          subnets: subnets.map { FargateProfileSpec.Subnet(subnetId: $0.subnetId, zone: $0.availabilityZone, cidr: $0.cidrBlock.description) })
            }
    }

    /// An address for a Fargate pod from `subnetId`, taken in the subnet as a network interface's is.
    public func allocateFargateAddress(subnetId: String) async throws -> String {
        try await write { [self] tx in
            guard let address = try network.allocateAddresses(tx, subnetId: subnetId, count: 1).first else {
                throw EKSError.invalidRequest("Subnet \(subnetId) has no free addresses.")
            }
            return address
        }
    }

    public func releaseFargateAddress(subnetId: String, address: String) async throws {
        try await write { [self] tx in try network.releaseAddresses(tx, subnetId: subnetId, addresses: [address]) }
    }
}
