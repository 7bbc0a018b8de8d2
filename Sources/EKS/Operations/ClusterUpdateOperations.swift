import Foundation
import RegionStore

public struct UpdateAccessConfigRequest: Codable, Sendable {
    public var authenticationMode: AuthenticationMode?
}

public struct UpdateClusterConfigRequest: Codable, Sendable {
    public var resourcesVpcConfig: VpcConfigRequest?
    public var logging: Logging?
    public var clientRequestToken: String?
    public var accessConfig: UpdateAccessConfigRequest?
    public var upgradePolicy: UpgradePolicy?
    public var zonalShiftConfig: ZonalShiftConfig?
    public var deletionProtection: Bool?
}

public struct UpdateClusterVersionRequest: Codable, Sendable {
    public var version: String
    public var clientRequestToken: String?
    public var force: Bool?
}

extension EKSService {
    public func updateClusterConfig(name: String, _ input: UpdateClusterConfigRequest) async throws -> Update {
        let given = [input.resourcesVpcConfig != nil, input.logging != nil, input.accessConfig != nil,
                     input.upgradePolicy != nil, input.zonalShiftConfig != nil, input.deletionProtection != nil]
        guard given.filter({ $0 }).count == 1 else {
            throw EKSError.invalidParameter(given.contains(true)
                ? "Only one type of update can be allowed."
                : "No changes requested: give one of resourcesVpcConfig, logging, accessConfig, upgradePolicy, zonalShiftConfig, deletionProtection.",
                cluster: name)
        }
        let update: Update = try await write { [self] tx in
            let record = try updatableCluster(tx, name)
            let (type, params, change) = try clusterConfigChange(tx, input, current: record.cluster)
            return try startClusterUpdate(tx, record, type: type, params: params, change: change)
        }
        transitionScheduled()
        return update
    }

    /// Checks a config update against the cluster as it is and says what it will change.
    private func clusterConfigChange(_ tx: RecordTransaction, _ input: UpdateClusterConfigRequest,
                                     current: Cluster) throws -> (UpdateType, [UpdateParam], PendingChange) {
        let name = current.name
        if let logging = input.logging {
            let wanted = Logging.canonical(enabled: logging.applied(to: current.logging.enabledTypes))
            guard wanted != current.logging else {
                throw EKSError.invalidParameter("No changes needed for the logging config provided", cluster: name)
            }
            return (.LoggingUpdate, [UpdateParam("ClusterLogging", try Self.json(wanted.clusterLogging))], .logging(wanted))
        }
        if let vpc = input.resourcesVpcConfig {
            // Subnets or security groups are a VpcConfigUpdate, endpoint access an EndpointAccessUpdate: not both at once.
            if vpc.subnetIds != nil || vpc.securityGroupIds != nil,
               vpc.endpointPublicAccess != nil || vpc.endpointPrivateAccess != nil || vpc.publicAccessCidrs != nil {
                throw EKSError.invalidParameter("Only one type of update can be allowed.", cluster: name)
            }
            if vpc.subnetIds != nil || vpc.securityGroupIds != nil {
                let subnets = vpc.subnetIds ?? current.resourcesVpcConfig.subnetIds
                let groups = vpc.securityGroupIds ?? current.resourcesVpcConfig.securityGroupIds
                let newVPC = try clusterVPC(tx, subnetIds: subnets, securityGroupIds: groups, cluster: name)
                guard newVPC.vpcId == current.resourcesVpcConfig.vpcId else {
                    throw EKSError.invalidParameter("Subnets must stay in the cluster VPC \(current.resourcesVpcConfig.vpcId).", cluster: name)
                }
                var params: [UpdateParam] = []
                if let ids = vpc.subnetIds { params.append(UpdateParam("Subnets", try Self.json(ids))) }
                if let ids = vpc.securityGroupIds { params.append(UpdateParam("SecurityGroups", try Self.json(ids))) }
                return (.VpcConfigUpdate, params, .vpcConfig(subnetIds: subnets, securityGroupIds: groups))
            }
            let current = current.resourcesVpcConfig
            let publicAccess = vpc.endpointPublicAccess ?? current.endpointPublicAccess
            let privateAccess = vpc.endpointPrivateAccess ?? current.endpointPrivateAccess
            let cidrs = vpc.publicAccessCidrs ?? current.publicAccessCidrs
            try Validation.cidrs(cidrs, field: "publicAccessCidrs")
            guard publicAccess || privateAccess else {
                throw EKSError.invalidParameter("Either the public or the private endpoint access must be enabled.", cluster: name)
            }
            guard publicAccess != current.endpointPublicAccess || privateAccess != current.endpointPrivateAccess
                    || cidrs != current.publicAccessCidrs else {
                throw EKSError.invalidParameter(
                    "Cluster is already at the desired configuration with endpointPrivateAccess: \(privateAccess) , endpointPublicAccess: \(publicAccess), publicAccessCidrs: \(cidrs)",
                    cluster: name)
            }
            return (.EndpointAccessUpdate,
                    [UpdateParam("EndpointPublicAccess", String(publicAccess)),
                     UpdateParam("EndpointPrivateAccess", String(privateAccess)),
                     UpdateParam("PublicAccessCidrs", try Self.json(cidrs))],
                    .endpointAccess(publicAccess: publicAccess, privateAccess: privateAccess, publicAccessCidrs: cidrs))
        }
        if let access = input.accessConfig {
            guard let mode = access.authenticationMode else {
                throw EKSError.invalidParameter("accessConfig needs an authenticationMode.", cluster: name)
            }
            let from = current.accessConfig.authenticationMode
            guard mode != from else {
                throw EKSError.invalidParameter("Cluster already has authentication mode \(mode.rawValue).", cluster: name)
            }
            guard mode.rank > from.rank else {
                throw EKSError.invalidParameter("Unsupported authentication mode update from \(from.rawValue) to \(mode.rawValue)", cluster: name)
            }
            return (.AccessConfigUpdate, [UpdateParam("AuthenticationMode", mode.rawValue)], .authenticationMode(mode))
        }
        if let policy = input.upgradePolicy {
            guard let support = policy.supportType else {
                throw EKSError.invalidParameter("upgradePolicy needs a supportType.", cluster: name)
            }
            guard support != current.upgradePolicy.supportType else {
                throw EKSError.invalidParameter("No changes needed for the upgrade policy provided", cluster: name)
            }
            return (.UpgradePolicyUpdate, [UpdateParam("UpgradePolicy", support.rawValue)], .upgradePolicy(policy))
        }
        if let zonalShift = input.zonalShiftConfig {
            return (.ZonalShiftConfigUpdate, [UpdateParam("ZonalShiftConfig", String(zonalShift.enabled ?? false))],
                    .zonalShift(zonalShift))
        }
        let protection = input.deletionProtection!
        guard protection != current.deletionProtection else {
            throw EKSError.invalidParameter("Cluster already has deletionProtection \(protection).", cluster: name)
        }
        return (.DeletionProtectionUpdate, [UpdateParam("DeletionProtection", String(protection))], .deletionProtection(protection))
    }

    public func updateClusterVersion(name: String, _ input: UpdateClusterVersionRequest) async throws -> Update {
        let update: Update = try await write { [self] tx in
            let record = try updatableCluster(tx, name, action: Self.action(.VersionUpdate))
            guard let target = KubernetesVersions.named(input.version),
                  let current = KubernetesVersions.named(record.cluster.version) else {
                throw EKSError.invalidParameter("Unsupported Kubernetes minor version update from \(record.cluster.version) to \(input.version)",
                                                cluster: name)
            }
            guard target.minor != current.minor else {
                throw EKSError.invalidParameter("Cluster is already at the desired configuration with version: \(target.version)", cluster: name)
            }
            // Control planes move one minor version at a time, and never back.
            guard target.minor == current.minor + 1 else {
                throw EKSError.invalidParameter("Unsupported Kubernetes minor version update from \(current.version) to \(target.version)",
                                                cluster: name)
            }
            return try startClusterUpdate(tx, record, type: .VersionUpdate,
                                          params: [UpdateParam("Version", target.version),
                                                   UpdateParam("PlatformVersion", target.platformVersion)],
                                          change: .clusterVersion(version: target.version, platformVersion: target.platformVersion))
        }
        transitionScheduled()
        return update
    }

    /// Turns on envelope encryption of the cluster's Secrets with a KMS key; once on, it cannot be changed or removed.
    public func associateEncryptionConfig(name: String, encryptionConfig: [EncryptionConfig]) async throws -> Update {
        try Self.validateEncryption(encryptionConfig, cluster: name)
        try await checkEncryptionKey(encryptionConfig, cluster: name)
        let update: Update = try await write { [self] tx in
            let record = try updatableCluster(tx, name, action: Self.action(.AssociateEncryptionConfig))
            guard record.cluster.encryptionConfig?.isEmpty ?? true else {
                throw EKSError.invalidParameter("Encryption is already enabled on the cluster", cluster: name)
            }
            let described = String(decoding: (try? JSONEncoder().encode(encryptionConfig)) ?? Data(), as: UTF8.self)
            return try startClusterUpdate(tx, record, type: .AssociateEncryptionConfig, params: [UpdateParam("EncryptionConfig", described)],
                                          change: .encryption(encryptionConfig))
        }
        transitionScheduled()
        return update
    }

    /// The cluster, if it can take an update now; one in progress refuses a second.
    private func updatableCluster(_ tx: RecordTransaction, _ name: String, action: String = "update cluster") throws -> ClusterRecord {
        let record = try cluster(tx, name)
        if case .refuse(let reason) = record.cluster.status.step(.updateRequested) {
            throw try updateRefusal(tx, record, action: action, reason: reason)
        }
        return record
    }

    /// EKS's words for an update a cluster cannot take: naming the update in progress, when that is why.
    private func updateRefusal(_ tx: RecordTransaction, _ record: ClusterRecord, action: String, reason: String) throws -> EKSError {
        let name = record.cluster.name
        if record.cluster.status == .UPDATING,
           let running = try tx.all(UpdateRecord.self, keyPrefix: name + "/").first(where: {
               $0.update.status == .InProgress && $0.nodegroupName == nil && $0.addonName == nil && $0.capabilityName == nil
           }) {
            return EKSError.inUse("Cannot \(action) because cluster \(name) currently has update \(running.update.id) in progress", cluster: name)
        }
        return EKSError.inUse("Cluster \(name) cannot be updated now. \(reason)", cluster: name)
    }

    /// What EKS says an update of `type` would do, in its refusals.
    static func action(_ type: UpdateType) -> String {
        switch type {
        case .VersionUpdate: "upgrade the Kubernetes version"
        case .LoggingUpdate: "update cluster logging"
        case .EndpointAccessUpdate: "update endpoint access"
        case .VpcConfigUpdate: "update the VPC configuration"
        case .AccessConfigUpdate: "update the authentication mode"
        case .AssociateEncryptionConfig: "associate an encryption config"
        case .AssociateIdentityProviderConfig: "associate an identity provider config"
        case .DisassociateIdentityProviderConfig: "disassociate an identity provider config"
        default: "update cluster"
        }
    }

    func startClusterUpdate(_ tx: RecordTransaction, _ record: ClusterRecord, type: UpdateType,
                                    params: [UpdateParam], change: PendingChange) throws -> Update {
        var record = record
        let name = record.cluster.name
        switch record.cluster.status.step(.updateRequested) {
        case .moveTo(let status):
            record.cluster.status = status
        case .refuse(let reason):
            throw try updateRefusal(tx, record, action: Self.action(type), reason: reason)
        case .remove:
            throw EKSError.clusterNotFound(name)
        }
        try tx.save(record)
        return try insertUpdate(tx, cluster: name, nodegroup: nil, type: type, params: params, change: change)
    }

    func insertUpdate(_ tx: RecordTransaction, cluster: String, nodegroup: String?, addon: String? = nil, type: UpdateType,
                      params: [UpdateParam], change: PendingChange) throws -> Update {
        let now = Date()
        let update = Update(id: UUID().uuidString.lowercased(), status: .InProgress, type: type, params: params,
                            createdAt: now, errors: [])
        try tx.insert(UpdateRecord(clusterName: cluster, nodegroupName: nodegroup, addonName: addon, update: update, change: change,
                                   dueAt: dueTime(from: now)))
        return update
    }

    public func describeUpdate(name: String, updateId: String, nodegroupName: String?, addonName: String? = nil,
                               capabilityName: String? = nil) async throws -> Update {
        try await read { reader in
            guard try reader.get(ClusterRecord.self, name) != nil else { throw EKSError.clusterNotFound(name) }
            guard let record = try reader.get(UpdateRecord.self, "\(name)/\(updateId)"),
                  nodegroupName == nil || record.nodegroupName == nodegroupName,
                  addonName == nil || record.addonName == addonName,
                  capabilityName == nil || record.capabilityName == capabilityName else {
                throw EKSError.notFound("No update found for ID: \(updateId)", cluster: name, nodegroup: nodegroupName)
            }
            return record.update
        }
    }

    public func listUpdates(name: String, nodegroupName: String?, addonName: String? = nil, capabilityName: String? = nil, maxResults: Int?,
                            nextToken: String?) async throws -> ListPage<String> {
        let ids: [String] = try await read { [self] reader in
            guard try reader.get(ClusterRecord.self, name) != nil else { throw EKSError.clusterNotFound(name) }
            if let nodegroupName,
               try reader.get(NodegroupRecord.self, NodegroupRecord.key(cluster: name, nodegroup: nodegroupName)) == nil {
                throw EKSError.nodegroupNotFound(nodegroupName, cluster: name)
            }
            if let addonName { _ = try addon(reader, name, addonName) }
            if let capabilityName { _ = try capability(reader, name, capabilityName) }
            return try reader.all(UpdateRecord.self, keyPrefix: name + "/")
                .filter { $0.nodegroupName == nodegroupName && $0.addonName == addonName && $0.capabilityName == capabilityName }
                .map(\.update.id).sorted()
        }
        return try Paging.page(ids, key: { $0 }, maxResults: maxResults, nextToken: nextToken)
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
