import Foundation
import RegionStore

extension EKSService {
    /// How often node groups' instances are checked even when nothing is due (an instance terminated by
    /// hand is replaced within it, as its Auto Scaling group would).
    static let instanceSweepInterval: TimeInterval = 10

    /// Completes every transition due by `now` in one transaction: clusters and node groups
    /// finish creating or deleting, updates apply their change. A cluster turns ACTIVE only once
    /// its control plane runs; a deleted cluster's control plane goes with it. Returns when the
    /// next transition is due.
    @discardableResult
    public func advanceDueTransitions(now: Date = Date()) async throws -> Date? {
        let addonsDue = [try await advanceAddons(now: now), try await advanceCapabilities(now: now),
                         try await advanceInsights(now: now)].compactMap { $0 }.min()
        let starting = try await read { [self] reader in
            try reader.all(ClusterRecord.self).filter { $0.cluster.status == .CREATING && ($0.dueAt ?? .distantFuture) <= now }
                .map { record in
                    var spec = record.controlPlaneSpec
                    spec.access = try clusterAccess(reader, record)
                    return spec
                }
        }
        var failed: Set<String> = []
        for spec in starting {
            do {
                try await controlPlanes.ensureRunning(spec)
            } catch {
                failed.insert(spec.clusterName)
            }
        }
        // Those stay CREATING and are tried again in a second.
        let notStarted = failed
        let (next, removed) = try await database.write { [self] tx -> (Date?, [String]) in
            var next: Date? = notStarted.isEmpty ? addonsDue : min(addonsDue ?? .distantFuture, now.addingTimeInterval(1))
            var removed: [String] = []
            func isDue(_ due: Date?) -> Bool {
                guard let due else { return false }
                if due <= now { return true }
                next = min(next ?? due, due)
                return false
            }
            // Add-on and capability updates are carried out by advanceAddons and advanceCapabilities.
            for var record in try tx.all(UpdateRecord.self)
            where record.addonName == nil && record.capabilityName == nil && record.update.status == .InProgress && isDue(record.dueAt) {
                try complete(tx, &record)
            }
            for var record in try tx.all(NodegroupRecord.self) {
                if isDue(record.dueAt) { try finishTransition(tx, &record) }
                // Each node group's instances follow its status and size, and lost ones are replaced.
                guard let current = try tx.get(NodegroupRecord.self, record.storeKey) else { continue }
                record = current
                try scaleInstances(tx, &record, cluster: try tx.get(ClusterRecord.self, record.nodegroup.clusterName))
                next = min(next ?? now.addingTimeInterval(Self.instanceSweepInterval), now.addingTimeInterval(Self.instanceSweepInterval))
            }
            for var record in try tx.all(FargateProfileRecord.self) where isDue(record.dueAt) {
                if record.profile.status == .DELETING {
                    try network.detach(tx, subnetIds: record.profile.subnets, from: record.profile.fargateProfileArn)
                    try tx.delete(FargateProfileRecord.self, record.storeKey)
                } else {
                    record.profile.status = .ACTIVE
                    record.dueAt = nil
                    try tx.save(record)
                }
            }
            for var record in try tx.all(EksAnywhereSubscriptionRecord.self) where record.subscription.status == .CREATING && isDue(record.dueAt) {
                record.subscription.status = .ACTIVE
                record.dueAt = nil
                try tx.save(record)
            }
            for record in try tx.all(RegisteredClusterRecord.self) where record.cluster.status == .DELETING && isDue(record.dueAt) {
                try tx.delete(RegisteredClusterRecord.self, record.storeKey)
            }
            for var record in try tx.all(ClusterRecord.self) where isDue(record.dueAt) {
                if notStarted.contains(record.cluster.name) { continue }
                // A cluster's node groups and Fargate profiles go first; a deleting cluster waits for them.
                if record.cluster.status == .DELETING,
                   try tx.count(NodegroupRecord.self, keyPrefix: record.cluster.name + "/") > 0
                    || tx.count(FargateProfileRecord.self, keyPrefix: record.cluster.name + "/") > 0 {
                    next = min(next ?? now, now.addingTimeInterval(max(settings.provisioningDelay, 0.1)))
                    continue
                }
                if record.cluster.status == .DELETING { removed.append(record.cluster.name) }
                try finishTransition(tx, &record)
            }
            return (next, removed)
        }
        for name in removed { await controlPlanes.remove(clusterName: name) }
        try await followControlPlanes()
        return next
    }

    /// Runs the control planes of the running clusters here, as specified now: brings them back after a restart,
    /// follows version upgrades and node changes; with several replicas, each runs every running cluster's and
    /// stops those another replica deleted.
    public func followControlPlanes() async throws {
        let (running, existing) = try await read { [self] reader -> ([ControlPlaneSpec], Set<String>) in
            let clusters = try reader.all(ClusterRecord.self)
            let running = try clusters.filter { [.ACTIVE, .UPDATING].contains($0.cluster.status) }.map { record in
                var spec = record.controlPlaneSpec
                spec.nodes = try nodes(reader, cluster: record)
                spec.access = try clusterAccess(reader, record)
                spec.fargateProfiles = try fargateProfiles(reader, clusterName: record.cluster.name)
                return spec
            }
            return (running, Set(clusters.map(\.cluster.name)))
        }
        for spec in running { try? await controlPlanes.ensureRunning(spec) }
        await controlPlanes.keepOnly(clusterNames: existing)
    }

    private func finishTransition(_ tx: RecordTransaction, _ record: inout ClusterRecord) throws {
        switch record.cluster.status.step(record.cluster.status == .DELETING ? .deprovisioned : .provisioned) {
        case .moveTo(let status):
            record.cluster.status = status
            record.dueAt = nil
            try tx.save(record)
        case .remove:
            let cluster = record.cluster
            if let port = URLComponents(string: record.endpoint)?.port { try tx.delete(ClusterPortRecord.self, String(port)) }
            try network.detach(tx, subnetIds: cluster.resourcesVpcConfig.subnetIds, from: cluster.arn)
            try network.deleteSecurityGroup(tx, id: cluster.resourcesVpcConfig.clusterSecurityGroupId)
            for update in try tx.all(UpdateRecord.self, keyPrefix: cluster.name + "/") {
                try tx.delete(UpdateRecord.self, update.storeKey)
            }
            for entry in try tx.all(AccessEntryRecord.self, keyPrefix: cluster.name + "/") {
                try tx.delete(AccessEntryRecord.self, entry.storeKey)
            }
            for association in try tx.all(PodIdentityAssociationRecord.self, keyPrefix: cluster.name + "/") {
                try tx.delete(PodIdentityAssociationRecord.self, association.storeKey)
            }
            for addon in try tx.all(AddonRecord.self, keyPrefix: cluster.name + "/") {
                try tx.delete(AddonRecord.self, addon.storeKey)
            }
            for config in try tx.all(IdentityProviderConfigRecord.self, keyPrefix: cluster.name + "/") {
                try tx.delete(IdentityProviderConfigRecord.self, config.storeKey)
            }
            for capability in try tx.all(CapabilityRecord.self, keyPrefix: cluster.name + "/") {
                try tx.delete(CapabilityRecord.self, capability.storeKey)
            }
            try tx.delete(InsightsRecord.self, cluster.name)
            try tx.delete(ClusterRecord.self, record.storeKey)
        case .refuse:
            // Nothing is due in this status (a stray time); drop it.
            record.dueAt = nil
            try tx.save(record)
        }
    }

    private func finishTransition(_ tx: RecordTransaction, _ record: inout NodegroupRecord) throws {
        switch record.nodegroup.status.step(record.nodegroup.status == .DELETING ? .deprovisioned : .provisioned) {
        case .moveTo(let status):
            record.nodegroup.status = status
            record.nodegroup.modifiedAt = Date()
            record.dueAt = nil
            try tx.save(record)
        case .remove:
            _ = try network.terminateInstances(tx, ids: try instances(tx.reader, of: record.nodegroup).map(\.instanceId), reason: "Service initiated")
            try network.detach(tx, subnetIds: record.nodegroup.subnets, from: record.nodegroup.nodegroupArn)
            for update in try tx.all(UpdateRecord.self, keyPrefix: record.nodegroup.clusterName + "/")
            where update.nodegroupName == record.nodegroup.nodegroupName {
                try tx.delete(UpdateRecord.self, update.storeKey)
            }
            try tx.delete(NodegroupRecord.self, record.storeKey)
            try removeNodeRoleEntry(tx, clusterName: record.nodegroup.clusterName, role: record.nodegroup.nodeRole)
        case .refuse:
            record.dueAt = nil
            try tx.save(record)
        }
    }

    /// Applies an update's change to its cluster or node group and marks it `Successful`.
    private func complete(_ tx: RecordTransaction, _ record: inout UpdateRecord) throws {
        record.update.status = .Successful
        try tx.save(record)
        if let nodegroupName = record.nodegroupName {
            guard var target = try tx.get(NodegroupRecord.self, NodegroupRecord.key(cluster: record.clusterName, nodegroup: nodegroupName)) else { return }
            Self.apply(record.change, to: &target.nodegroup)
            if case .moveTo(let status) = target.nodegroup.status.step(.updateFinished) { target.nodegroup.status = status }
            target.nodegroup.modifiedAt = Date()
            try tx.save(target)
        } else {
            guard var target = try tx.get(ClusterRecord.self, record.clusterName) else { return }
            try apply(tx, record.change, to: &target.cluster)
            if case .moveTo(let status) = target.cluster.status.step(.updateFinished) { target.cluster.status = status }
            try tx.save(target)
            if case .authenticationMode = record.change { try insertCreatorEntry(tx, target) }
        }
    }

    private func apply(_ tx: RecordTransaction, _ change: PendingChange, to cluster: inout Cluster) throws {
        switch change {
        case .clusterVersion(let version, let platformVersion):
            cluster.version = version
            cluster.platformVersion = platformVersion
        case .endpointAccess(let publicAccess, let privateAccess, let cidrs):
            cluster.resourcesVpcConfig.endpointPublicAccess = publicAccess
            cluster.resourcesVpcConfig.endpointPrivateAccess = privateAccess
            cluster.resourcesVpcConfig.publicAccessCidrs = cidrs
        case .vpcConfig(let subnetIds, let securityGroupIds):
            try network.detach(tx, subnetIds: cluster.resourcesVpcConfig.subnetIds, from: cluster.arn)
            try network.attach(tx, subnetIds: subnetIds, to: cluster.arn)
            cluster.resourcesVpcConfig.subnetIds = subnetIds
            cluster.resourcesVpcConfig.securityGroupIds = securityGroupIds
        case .logging(let logging):
            cluster.logging = logging
        case .authenticationMode(let mode):
            cluster.accessConfig.authenticationMode = mode
        case .upgradePolicy(let policy):
            cluster.upgradePolicy = policy
        case .deletionProtection(let enabled):
            cluster.deletionProtection = enabled
        case .encryption(let configs):
            cluster.encryptionConfig = configs
        case .zonalShift(let config):
            cluster.zonalShiftConfig = config
        case .identityProvider(let name, let associate):
            let key = IdentityProviderConfigRecord.key(cluster: cluster.name, name: name)
            guard var record = try tx.get(IdentityProviderConfigRecord.self, key) else { break }
            if associate {
                record.config.status = .ACTIVE
                try tx.save(record)
            } else {
                try tx.delete(IdentityProviderConfigRecord.self, key)
            }
        case .nodegroupConfig, .nodegroupVersion, .addon, .capability:
            break
        }
    }

    static func apply(_ change: PendingChange, to nodegroup: inout Nodegroup) {
        switch change {
        case .nodegroupConfig(let config):
            if let scaling = config.scalingConfig { nodegroup.scalingConfig = scaling }
            nodegroup.labels.merge(config.addOrUpdateLabels) { $1 }
            for key in config.removeLabels { nodegroup.labels.removeValue(forKey: key) }
            var taints = nodegroup.taints ?? []
            // Taints are keyed by key and effect, as on a Kubernetes node.
            taints.removeAll { taint in
                (config.addOrUpdateTaints + config.removeTaints).contains { $0.key == taint.key && $0.effect == taint.effect }
            }
            taints += config.addOrUpdateTaints
            nodegroup.taints = taints.isEmpty ? nil : taints
            if let updateConfig = config.updateConfig { nodegroup.updateConfig = updateConfig }
        case .nodegroupVersion(let version, let releaseVersion, let launchTemplate):
            nodegroup.version = version
            nodegroup.releaseVersion = releaseVersion
            if let launchTemplate { nodegroup.launchTemplate = launchTemplate }
        default:
            break
        }
    }
}
