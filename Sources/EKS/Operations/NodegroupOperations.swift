import Foundation
import RegionStore
import VPC

public struct CreateNodegroupRequest: Codable, Sendable {
    public var nodegroupName: String
    public var scalingConfig: NodegroupScalingConfig?
    public var diskSize: Int?
    public var subnets: [String]
    public var instanceTypes: [String]?
    public var amiType: String?
    public var remoteAccess: RemoteAccessConfig?
    public var nodeRole: String
    public var labels: [String: String]?
    public var taints: [Taint]?
    public var tags: [String: String]?
    public var clientRequestToken: String?
    public var launchTemplate: LaunchTemplateSpecification?
    public var updateConfig: NodegroupUpdateConfig?
    public var capacityType: CapacityType?
    public var version: String?
    public var releaseVersion: String?
    public var nodeRepairConfig: NodeRepairConfig?
    public var warmPoolConfig: WarmPoolConfig?
}

public struct UpdateLabelsPayload: Codable, Sendable {
    public var addOrUpdateLabels: [String: String]?
    public var removeLabels: [String]?
}

public struct UpdateTaintsPayload: Codable, Sendable {
    public var addOrUpdateTaints: [Taint]?
    public var removeTaints: [Taint]?
}

public struct UpdateNodegroupConfigRequest: Codable, Sendable {
    public var labels: UpdateLabelsPayload?
    public var taints: UpdateTaintsPayload?
    public var scalingConfig: NodegroupScalingConfig?
    public var updateConfig: NodegroupUpdateConfig?
    public var clientRequestToken: String?
}

public struct UpdateNodegroupVersionRequest: Codable, Sendable {
    public var version: String?
    public var releaseVersion: String?
    public var launchTemplate: LaunchTemplateSpecification?
    public var force: Bool?
    public var clientRequestToken: String?
}

/// The AMI types EKS offers; AL2 images stop at Kubernetes 1.32.
enum AMITypes {
    static let all: Set<String> = [
        "AL2_x86_64", "AL2_x86_64_GPU", "AL2_ARM_64", "CUSTOM",
        "BOTTLEROCKET_ARM_64", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64_FIPS", "BOTTLEROCKET_x86_64_FIPS",
        "BOTTLEROCKET_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA_FIPS", "BOTTLEROCKET_x86_64_NVIDIA_FIPS",
        "WINDOWS_CORE_2019_x86_64", "WINDOWS_FULL_2019_x86_64", "WINDOWS_CORE_2022_x86_64", "WINDOWS_FULL_2022_x86_64",
        "WINDOWS_CORE_2025_x86_64", "WINDOWS_FULL_2025_x86_64",
        "AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NEURON", "AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA",
    ]
    static let lastAL2Minor = 32

    /// Graviton families (`m7g`, `c6gn`, `t4g`…) run ARM images.
    static func isARM(_ instanceType: String) -> Bool {
        let family = instanceType.split(separator: ".").first ?? ""
        return family.dropFirst().contains("g") && !family.hasPrefix("g") && !family.hasPrefix("inf")
    }
}

extension EKSService {
    public func createNodegroup(clusterName: String, _ input: CreateNodegroupRequest) async throws -> Nodegroup {
        try Self.checkRepairAndWarmPool(input, nodegroup: input.nodegroupName)
        let name = input.nodegroupName
        try Validation.name(name, field: "Nodegroup name", maxLength: 63)
        try Validation.roleArn(input.nodeRole, field: "nodeRole")
        try Validation.labels(input.labels ?? [:], nodegroup: name)
        try Validation.taints(input.taints ?? [], nodegroup: name)
        try Validation.tags(input.tags ?? [:]) { EKSError.invalidParameter($0, cluster: clusterName, nodegroup: name) }
        let scaling = try Self.scaling(input.scalingConfig ?? NodegroupScalingConfig(), over: nil, nodegroup: name)
        let updateConfig = try Self.updateConfig(input.updateConfig, nodegroup: name) ?? NodegroupUpdateConfig(maxUnavailable: 1)
        try Self.checkMaxUnavailable(updateConfig, maxSize: scaling.maxSize, nodegroup: name)
        for type in input.instanceTypes ?? [] where !Self.isInstanceTypeName(type) {
            throw EKSError.invalidParameter("Instance type \(type) is not a valid EC2 instance type.", nodegroup: name)
        }
        if let template = input.launchTemplate {
            if input.diskSize != nil {
                throw EKSError.invalidParameter("Disk size must be specified within the launch template.", nodegroup: name)
            }
            if input.remoteAccess != nil {
                throw EKSError.invalidParameter("Remote access configuration cannot be specified with a launch template.", nodegroup: name)
            }
            try Self.checkTemplateReference(template, nodegroup: name)
        }
        let now = Date()

        let record: NodegroupRecord = try await write { [self] tx in
            let cluster = try cluster(tx, clusterName)
            guard cluster.cluster.status == .ACTIVE || cluster.cluster.status == .UPDATING else {
                throw EKSError.invalidRequest("Cluster '\(clusterName)' is not in ACTIVE status", cluster: clusterName, nodegroup: name)
            }
            let key = NodegroupRecord.key(cluster: clusterName, nodegroup: name)
            if let existing = try tx.get(NodegroupRecord.self, key) {
                // A retry with the same token gets the node group it created.
                if let token = input.clientRequestToken, existing.clientRequestToken == token { return existing }
                throw EKSError.inUse("NodeGroup already exists with name \(name) and cluster name \(clusterName)",
                                     cluster: clusterName, nodegroup: name)
            }
            let version = try nodegroupVersion(input.version, cluster: cluster.cluster, current: nil, nodegroup: name)
            if let key = input.remoteAccess?.ec2SshKey, try network.keyPair(tx.reader, name: key) == nil {
                throw EKSError.invalidParameter("The specified EC2 SSH key \(key) does not exist.", cluster: clusterName, nodegroup: name)
            }
            // A launch template that names an instance type leaves the node group's instanceTypes null, as on EKS.
            let template = try input.launchTemplate.map { try resolvedTemplate(tx.reader, $0, nodegroup: name) }
            if template?.data.instanceType != nil, input.instanceTypes != nil {
                throw EKSError.invalidParameter("Instance type specified in both the launch template and the node group request.",
                                                cluster: clusterName, nodegroup: name)
            }
            let instanceTypes: [String]? = template?.data.instanceType != nil ? nil : input.instanceTypes ?? ["t3.medium"]
            let amiType = try Self.amiType(input.amiType, version: version,
                                           instanceTypes: instanceTypes ?? template?.data.instanceType.map { [$0] } ?? [],
                                           hasLaunchTemplate: input.launchTemplate != nil, nodegroup: name)
            for subnet in try network.subnets(tx, ids: input.subnets) where subnet.vpcId != cluster.cluster.resourcesVpcConfig.vpcId {
                throw EKSError.invalidParameter(
                    "Subnet \(subnet.subnetId) is not in the cluster VPC \(cluster.cluster.resourcesVpcConfig.vpcId).",
                    cluster: clusterName, nodegroup: name)
            }
            guard !input.subnets.isEmpty else {
                throw EKSError.invalidParameter("A node group needs at least one subnet.", cluster: clusterName, nodegroup: name)
            }
            let uuid = UUID().uuidString.lowercased()
            let arn = "arn:aws:eks:\(region.name):\(region.account):nodegroup/\(clusterName)/\(name)/\(uuid)"
            try network.attach(tx, subnetIds: input.subnets, to: arn)
            let nodegroup = Nodegroup(
                nodegroupName: name, nodegroupArn: arn, clusterName: clusterName, version: version.version,
                releaseVersion: try Self.releaseVersion(input.releaseVersion, of: version, amiType: amiType, nodegroup: name),
                createdAt: now, modifiedAt: now,
                status: .CREATING, capacityType: input.capacityType ?? .ON_DEMAND, scalingConfig: scaling,
                instanceTypes: instanceTypes, subnets: input.subnets, remoteAccess: input.remoteAccess, amiType: amiType,
                nodeRole: input.nodeRole, labels: input.labels ?? [:], taints: input.taints,
                resources: NodegroupResources(autoScalingGroups: [.init(name: "eks-\(name)-\(uuid)")],
                                              remoteAccessSecurityGroup: nil),
                // Windows AMIs need the larger disk EKS gives them by default.
                diskSize: input.launchTemplate == nil ? (input.diskSize ?? (amiType.hasPrefix("WINDOWS_") ? 50 : 20)) : nil,
                health: NodegroupHealth(issues: []), updateConfig: updateConfig,
                launchTemplate: template?.specification, tags: input.tags ?? [:],
                nodeRepairConfig: input.nodeRepairConfig, warmPoolConfig: input.warmPoolConfig)
            let record = NodegroupRecord(nodegroup: nodegroup, clientRequestToken: input.clientRequestToken,
                                         dueAt: dueTime(from: now), templateInstanceType: template?.data.instanceType)
            try tx.insert(record)
            try insertNodeRoleEntry(tx, cluster, role: input.nodeRole)
            return record
        }
        transitionScheduled()
        await publishAccess(clusterName: clusterName)
        return record.nodegroup
    }

    public func describeNodegroup(clusterName: String, nodegroupName: String) async throws -> Nodegroup {
        try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            guard let record = try reader.get(NodegroupRecord.self, NodegroupRecord.key(cluster: clusterName, nodegroup: nodegroupName)) else {
                throw EKSError.nodegroupNotFound(nodegroupName, cluster: clusterName)
            }
            return record.nodegroup
        }
    }

    public func listNodegroups(clusterName: String, maxResults: Int?, nextToken: String?) async throws -> ListPage<String> {
        let names: [String] = try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            return try reader.all(NodegroupRecord.self, keyPrefix: clusterName + "/").map(\.nodegroup.nodegroupName).sorted()
        }
        return try Paging.page(names, key: { $0 }, maxResults: maxResults, nextToken: nextToken)
    }

    public func deleteNodegroup(clusterName: String, nodegroupName: String) async throws -> Nodegroup {
        let record: NodegroupRecord = try await write { [self] tx in
            _ = try cluster(tx, clusterName)
            var record = try nodegroup(tx, cluster: clusterName, nodegroupName)
            switch record.nodegroup.status.step(.deleteRequested) {
            case .moveTo(let status):
                record.nodegroup.status = status
            case .remove, .refuse:
                throw EKSError.inUse("Nodegroup \(nodegroupName) is in \(record.nodegroup.status.rawValue) state and cannot be deleted now.",
                                     cluster: clusterName, nodegroup: nodegroupName)
            }
            record.nodegroup.modifiedAt = Date()
            record.dueAt = dueTime()
            try tx.save(record)
            return record
        }
        transitionScheduled()
        return record.nodegroup
    }

    public func updateNodegroupConfig(clusterName: String, nodegroupName: String,
                                      _ input: UpdateNodegroupConfigRequest) async throws -> Update {
        let name = nodegroupName
        let add = input.labels?.addOrUpdateLabels ?? [:], remove = input.labels?.removeLabels ?? []
        let addTaints = input.taints?.addOrUpdateTaints ?? [], removeTaints = input.taints?.removeTaints ?? []
        guard input.labels != nil || input.taints != nil || input.scalingConfig != nil || input.updateConfig != nil else {
            throw EKSError.invalidParameter("No changes requested: give labels, taints, scalingConfig or updateConfig.",
                                            cluster: clusterName, nodegroup: name)
        }
        let both = Set(add.keys).intersection(remove)
        guard both.isEmpty else {
            throw EKSError.invalidParameter(
                "The following label keys are present in both addOrUpdateLabels and removeLabels: \(both.sorted().joined(separator: ", "))",
                cluster: clusterName, nodegroup: name)
        }
        try Validation.labels(add, nodegroup: name)
        try Validation.taints(addTaints, nodegroup: name)
        let updateConfig = try Self.updateConfig(input.updateConfig, nodegroup: name)

        let update: Update = try await write { [self] tx in
            _ = try cluster(tx, clusterName)
            var record = try nodegroup(tx, cluster: clusterName, name)
            let scaling = try input.scalingConfig.map { try Self.scaling($0, over: record.nodegroup.scalingConfig, nodegroup: name) }
            try Self.checkMaxUnavailable(updateConfig ?? record.nodegroup.updateConfig,
                                         maxSize: scaling?.maxSize ?? record.nodegroup.scalingConfig.maxSize, nodegroup: name)
            var params: [UpdateParam] = []
            if !add.isEmpty { params.append(UpdateParam("LabelsToAdd", try Self.json(add))) }
            if !remove.isEmpty { params.append(UpdateParam("LabelsToRemove", try Self.json(remove))) }
            if !addTaints.isEmpty { params.append(UpdateParam("TaintsToAdd", try Self.json(addTaints))) }
            if !removeTaints.isEmpty { params.append(UpdateParam("TaintsToRemove", try Self.json(removeTaints))) }
            if let scaling {
                params += [UpdateParam("MinSize", String(scaling.minSize!)), UpdateParam("MaxSize", String(scaling.maxSize!)),
                           UpdateParam("DesiredSize", String(scaling.desiredSize!))]
            }
            if let max = updateConfig?.maxUnavailable { params.append(UpdateParam("MaxUnavailable", String(max))) }
            if let pct = updateConfig?.maxUnavailablePercentage { params.append(UpdateParam("MaxUnavailablePercentage", String(pct))) }
            let change = NodegroupConfigChange(scalingConfig: scaling, addOrUpdateLabels: add, removeLabels: remove,
                                               addOrUpdateTaints: addTaints, removeTaints: removeTaints, updateConfig: updateConfig)
            try moveToUpdating(&record)
            try tx.save(record)
            return try insertUpdate(tx, cluster: clusterName, nodegroup: name, type: .ConfigUpdate, params: params,
                                    change: .nodegroupConfig(change))
        }
        transitionScheduled()
        return update
    }

    public func updateNodegroupVersion(clusterName: String, nodegroupName: String,
                                       _ input: UpdateNodegroupVersionRequest) async throws -> Update {
        let update: Update = try await write { [self] tx in
            let cluster = try cluster(tx, clusterName)
            var record = try nodegroup(tx, cluster: clusterName, nodegroupName)
            let version = try nodegroupVersion(input.version, cluster: cluster.cluster, current: record.nodegroup,
                                               nodegroup: nodegroupName)
            let releaseVersion = try Self.releaseVersion(input.releaseVersion, of: version, amiType: record.nodegroup.amiType,
                                                         nodegroup: nodegroupName)
            var template: LaunchTemplateSpecification?
            if let requested = input.launchTemplate {
                guard let current = record.nodegroup.launchTemplate else {
                    throw EKSError.invalidParameter("A launch template can be given only for a node group created with one.",
                                                    cluster: clusterName, nodegroup: nodegroupName)
                }
                try Self.checkTemplateReference(requested, nodegroup: nodegroupName)
                let resolved = try resolvedTemplate(tx.reader, requested, nodegroup: nodegroupName)
                guard resolved.specification.id == current.id else {
                    throw EKSError.invalidParameter("The launch template must be the one the node group was created with (\(current.id ?? "")).",
                                                    cluster: clusterName, nodegroup: nodegroupName)
                }
                template = resolved.specification
            }
            try moveToUpdating(&record)
            try tx.save(record)
            return try insertUpdate(tx, cluster: clusterName, nodegroup: nodegroupName, type: .VersionUpdate,
                                    params: [UpdateParam("Version", version.version), UpdateParam("ReleaseVersion", releaseVersion)],
                                    change: .nodegroupVersion(version: version.version, releaseVersion: releaseVersion,
                                                              launchTemplate: template))
        }
        transitionScheduled()
        return update
    }

    private func moveToUpdating(_ record: inout NodegroupRecord) throws {
        let group = record.nodegroup
        switch group.status.step(.updateRequested) {
        case .moveTo(let status):
            record.nodegroup.status = status
            record.nodegroup.modifiedAt = Date()
        case .refuse(let reason):
            throw EKSError.inUse("Nodegroup \(group.nodegroupName) cannot be updated now. \(reason)",
                                 cluster: group.clusterName, nodegroup: group.nodegroupName)
        case .remove:
            throw EKSError.nodegroupNotFound(group.nodegroupName, cluster: group.clusterName)
        }
    }

    // MARK: Checks

    /// A node group runs a supported version no newer than its cluster's, and never moves back.
    private func nodegroupVersion(_ requested: String?, cluster: Cluster, current: Nodegroup?,
                                  nodegroup: String) throws -> KubernetesVersion {
        let wanted = requested ?? cluster.version
        guard let version = KubernetesVersions.named(wanted), let clusterVersion = KubernetesVersions.named(cluster.version) else {
            throw EKSError.invalidParameter("Requested Kubernetes version \(wanted) is not supported.",
                                            cluster: cluster.name, nodegroup: nodegroup)
        }
        guard version.minor <= clusterVersion.minor else {
            throw EKSError.invalidParameter(
                "Requested Nodegroup version \(version.version) is newer than the cluster version \(cluster.version).",
                cluster: cluster.name, nodegroup: nodegroup)
        }
        if let current, let from = KubernetesVersions.named(current.version), version.minor < from.minor {
            throw EKSError.invalidParameter("Requested Nodegroup version \(version.version) is older than the current version \(from.version).",
                                            cluster: cluster.name, nodegroup: nodegroup)
        }
        return version
    }
}
