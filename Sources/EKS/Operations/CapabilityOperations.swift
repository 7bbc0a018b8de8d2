import Foundation
import RegionStore

/// EKS capabilities: managed ACK, kro and Argo CD. Creating one installs its custom resource definitions in the
/// cluster (so `kubectl api-resources` lists its kinds); deleting it retains them, as `deletePropagationPolicy`
/// `RETAIN` says. A cluster has at most one capability of each type.
extension EKSService {
    /// The version of each capability's software that new capabilities get.
    static let capabilityVersions: [CapabilityType: String] = [.ACK: "v1.0.0", .KRO: "v0.5.1", .ARGOCD: "v3.1.8"]

    public func createCapability(clusterName: String, _ input: CreateCapabilityRequest) async throws -> Capability {
        let name = input.capabilityName
        try Validation.name(name, field: "capabilityName", maxLength: 64)
        try Validation.roleArn(input.roleArn, field: "roleArn")
        try Self.checkPropagationPolicy(input.deletePropagationPolicy, cluster: clusterName)
        if let tags = input.tags { try Validation.tags(tags) { EKSError.invalidParameter($0, cluster: clusterName) } }
        let argoCd = input.configuration?.argoCd
        switch (input.type, argoCd) {
        case (.ARGOCD, nil):
            throw EKSError.invalidParameter("An ARGOCD capability needs configuration.argoCd with awsIdc.", cluster: clusterName)
        case (.ACK, .some), (.KRO, .some):
            throw EKSError.invalidParameter("configuration.argoCd applies to ARGOCD capabilities only.", cluster: clusterName)
        default:
            break
        }
        if let argoCd {
            guard argoCd.awsIdc.idcInstanceArn.hasPrefix("arn:aws:sso:::instance/ssoins-") else {
                throw EKSError.invalidParameter("awsIdc.idcInstanceArn \(argoCd.awsIdc.idcInstanceArn) is not an IAM Identity Center instance ARN.",
                                                cluster: clusterName)
            }
            if let namespace = argoCd.namespace, !Validation.isDNSLabel(namespace) {
                throw EKSError.invalidParameter("The namespace \(namespace) is not a valid Kubernetes namespace name.", cluster: clusterName)
            }
            try Self.checkRoleMappings(argoCd.rbacRoleMappings ?? [], cluster: clusterName)
        }
        let capability: Capability = try await write { [self] tx in
            let cluster = try cluster(tx, clusterName)
            let existing = try tx.all(CapabilityRecord.self, keyPrefix: clusterName + "/")
            if let same = existing.first(where: { $0.capability.capabilityName == name }) {
                if let token = input.clientRequestToken, same.clientRequestToken == token { return same.capability }
                throw EKSError.inUse("Capability \(name) already exists.", cluster: clusterName)
            }
            if let other = existing.first(where: { $0.capability.type == input.type }) {
                throw EKSError("ResourceLimitExceededException", status: 400,
                               "Cluster \(clusterName) already has a capability of type \(input.type.rawValue): \(other.capability.capabilityName).",
                               clusterName: clusterName)
            }
            guard [.ACTIVE, .UPDATING].contains(cluster.cluster.status) else {
                throw EKSError.invalidRequest("Cluster \(clusterName) is in \(cluster.cluster.status.rawValue) state; capabilities can be created once it is ACTIVE.",
                                              cluster: clusterName)
            }
            let now = Date()
            let configuration = argoCd.map { argoCd in
                let instance = argoCd.awsIdc.idcInstanceArn.split(separator: "/").last.map(String.init) ?? ""
                return CapabilityConfigurationResponse(argoCd: ArgoCdConfigResponse(
                    namespace: argoCd.namespace ?? "argocd",
                    awsIdc: ArgoCdAwsIdcConfigResponse(
                        idcInstanceArn: argoCd.awsIdc.idcInstanceArn, idcRegion: argoCd.awsIdc.idcRegion ?? region.name,
                        idcManagedApplicationArn: "arn:aws:sso::\(region.account):application/\(instance)/apl-\(Self.randomHex(16))"),
                    rbacRoleMappings: argoCd.rbacRoleMappings ?? [], networkAccess: argoCd.networkAccess,
                    serverUrl: "https://\(Self.randomHex(16)).eks-capabilities.\(region.name).amazonaws.com"))
            }
            let capability = Capability(
                capabilityName: name,
                arn: "arn:aws:eks:\(region.name):\(region.account):capability/\(clusterName)/\(name)/\(UUID().uuidString.lowercased())",
                clusterName: clusterName, type: input.type, roleArn: input.roleArn, status: .CREATING,
                version: Self.capabilityVersions[input.type] ?? "", configuration: configuration, tags: input.tags ?? [:],
                health: CapabilityHealth(issues: []), createdAt: now, modifiedAt: now, deletePropagationPolicy: input.deletePropagationPolicy)
            try tx.insert(CapabilityRecord(capability: capability, clientRequestToken: input.clientRequestToken, dueAt: dueTime(from: now)))
            return capability
        }
        transitionScheduled()
        return capability
    }

    public func describeCapability(clusterName: String, capabilityName: String) async throws -> Capability {
        try await read { [self] reader in try capability(reader, clusterName, capabilityName).capability }
    }

    public func listCapabilities(clusterName: String, maxResults: Int?, nextToken: String?) async throws -> ListPage<CapabilitySummary> {
        let summaries: [CapabilitySummary] = try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            return try reader.all(CapabilityRecord.self, keyPrefix: clusterName + "/").map(\.capability)
                .sorted { $0.capabilityName < $1.capabilityName }
                .map { CapabilitySummary(capabilityName: $0.capabilityName, arn: $0.arn, type: $0.type, status: $0.status, version: $0.version,
                                         createdAt: $0.createdAt, modifiedAt: $0.modifiedAt) }
        }
        return try Paging.page(summaries, key: \.capabilityName, maxResults: maxResults, nextToken: nextToken)
    }

    public func updateCapability(clusterName: String, capabilityName: String, _ input: UpdateCapabilityRequest) async throws -> Update {
        if let role = input.roleArn { try Validation.roleArn(role, field: "roleArn") }
        if let policy = input.deletePropagationPolicy { try Self.checkPropagationPolicy(policy, cluster: clusterName) }
        let mappings = input.configuration?.argoCd?.rbacRoleMappings
        try Self.checkRoleMappings((mappings?.addOrUpdateRoleMappings ?? []) + (mappings?.removeRoleMappings ?? []), cluster: clusterName)
        let update: Update = try await write { [self] tx in
            var record = try capability(tx.reader, clusterName, capabilityName)
            guard record.capability.status == .ACTIVE || record.capability.status == .DEGRADED else {
                throw EKSError.inUse("Capability \(capabilityName) cannot be updated as it is currently in \(record.capability.status.rawValue) state",
                                     cluster: clusterName)
            }
            var configuration = record.capability.configuration
            if let argoCd = input.configuration?.argoCd {
                guard var current = configuration?.argoCd else {
                    throw EKSError.invalidParameter("configuration.argoCd applies to ARGOCD capabilities only.", cluster: clusterName)
                }
                for mapping in mappings?.removeRoleMappings ?? [] {
                    current.rbacRoleMappings = current.rbacRoleMappings.compactMap { existing in
                        guard existing.role == mapping.role else { return existing }
                        let kept = existing.identities.filter { !mapping.identities.contains($0) }
                        return kept.isEmpty ? nil : ArgoCdRoleMapping(role: existing.role, identities: kept)
                    }
                }
                for mapping in mappings?.addOrUpdateRoleMappings ?? [] {
                    current.rbacRoleMappings.removeAll { $0.role == mapping.role }
                    current.rbacRoleMappings.append(mapping)
                }
                if let network = argoCd.networkAccess { current.networkAccess = network }
                configuration = CapabilityConfigurationResponse(argoCd: current)
            }
            var params: [UpdateParam] = []
            if let role = input.roleArn { params.append(UpdateParam("RoleArn", role)) }
            if let argoCd = input.configuration?.argoCd { params.append(UpdateParam("Configuration", try Self.json(argoCd))) }
            if let policy = input.deletePropagationPolicy { params.append(UpdateParam("DeletePropagationPolicy", policy)) }
            record.capability.status = .UPDATING
            record.capability.modifiedAt = Date()
            try tx.save(record)
            let now = Date()
            let update = Update(id: UUID().uuidString.lowercased(), status: .InProgress, type: .ConfigUpdate, params: params,
                                createdAt: now, errors: [])
            try tx.insert(UpdateRecord(clusterName: clusterName, nodegroupName: nil, capabilityName: capabilityName, update: update,
                                       change: .capability(roleArn: input.roleArn ?? record.capability.roleArn, configuration: configuration),
                                       dueAt: dueTime(from: now)))
            return update
        }
        transitionScheduled()
        return update
    }

    public func deleteCapability(clusterName: String, capabilityName: String) async throws -> Capability {
        let deleting: Capability = try await write { [self] tx in
            var record = try capability(tx.reader, clusterName, capabilityName)
            guard ![.CREATING, .UPDATING, .DELETING].contains(record.capability.status) else {
                throw EKSError.inUse("Capability \(capabilityName) cannot be deleted as it is currently in \(record.capability.status.rawValue) state",
                                     cluster: clusterName)
            }
            record.capability.status = .DELETING
            record.capability.modifiedAt = Date()
            record.dueAt = dueTime()
            try tx.save(record)
            return record.capability
        }
        transitionScheduled()
        return deleting
    }

    func capability(_ reader: RecordReader, _ clusterName: String, _ name: String) throws -> CapabilityRecord {
        guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
        guard let record = try reader.get(CapabilityRecord.self, CapabilityRecord.key(cluster: clusterName, name: name)) else {
            throw EKSError.notFound("No capability: \(name) found in cluster: \(clusterName)", cluster: clusterName)
        }
        return record
    }

    private static func checkPropagationPolicy(_ policy: String, cluster: String) throws {
        guard policy == "RETAIN" else {
            throw EKSError.invalidParameter("deletePropagationPolicy must be RETAIN, not \(policy).", cluster: cluster)
        }
    }

    private static func checkRoleMappings(_ mappings: [ArgoCdRoleMapping], cluster: String) throws {
        for mapping in mappings {
            guard ["ADMIN", "EDITOR", "VIEWER"].contains(mapping.role) else {
                throw EKSError.invalidParameter("Role \(mapping.role) is not one of ADMIN, EDITOR, VIEWER.", cluster: cluster)
            }
            for identity in mapping.identities where !["SSO_USER", "SSO_GROUP"].contains(identity.type) {
                throw EKSError.invalidParameter("Identity type \(identity.type) is not one of SSO_USER, SSO_GROUP.", cluster: cluster)
            }
        }
    }

    /// Carries out the capability work due by `now`: creates install the capability's definitions in the cluster,
    /// updates take effect, deletes go (the definitions retained). Returns when the next is due.
    func advanceCapabilities(now: Date) async throws -> Date? {
        let (creating, next) = try await read { reader -> ([CapabilityRecord], Date?) in
            var next: Date?
            var creating: [CapabilityRecord] = []
            for record in try reader.all(CapabilityRecord.self) where record.capability.status == .CREATING {
                guard let due = record.dueAt else { continue }
                if due <= now { creating.append(record) } else { next = min(next ?? due, due) }
            }
            return (creating, next)
        }
        var outcomes: [(String, AddonApplyOutcome)] = []
        for record in creating {
            let namespace = record.capability.configuration?.argoCd?.namespace
            outcomes.append((record.storeKey, await controlPlanes.applyCapability(clusterName: record.capability.clusterName,
                                                                                 type: record.capability.type, namespace: namespace)))
        }
        let later: Date? = try await write { [outcomes] tx in
            var next: Date?
            for (key, outcome) in outcomes {
                guard var record = try tx.get(CapabilityRecord.self, key), record.capability.status == .CREATING else { continue }
                record.dueAt = nil
                record.capability.modifiedAt = Date()
                switch outcome {
                case .applied:
                    record.capability.status = .ACTIVE
                case .conflicts(let message):
                    record.capability.status = .CREATE_FAILED
                    record.capability.health = CapabilityHealth(issues: [.init(code: "ClusterUnreachable", message: message)])
                case .failed(let issue):
                    record.capability.status = .CREATE_FAILED
                    record.capability.health = CapabilityHealth(issues: [.init(code: "ClusterUnreachable", message: issue.message)])
                }
                try tx.save(record)
            }
            for record in try tx.all(CapabilityRecord.self) where record.capability.status == .DELETING {
                guard let due = record.dueAt else { continue }
                if due <= now { try tx.delete(CapabilityRecord.self, record.storeKey) } else { next = min(next ?? due, due) }
            }
            for var update in try tx.all(UpdateRecord.self) where update.capabilityName != nil && update.update.status == .InProgress {
                guard update.dueAt <= now else { next = min(next ?? update.dueAt, update.dueAt); continue }
                guard let name = update.capabilityName, case .capability(let roleArn, let configuration) = update.change,
                      var record = try tx.get(CapabilityRecord.self, CapabilityRecord.key(cluster: update.clusterName, name: name)) else { continue }
                record.capability.roleArn = roleArn
                record.capability.configuration = configuration
                record.capability.status = .ACTIVE
                record.capability.modifiedAt = Date()
                update.update.status = .Successful
                try tx.save(record)
                try tx.save(update)
            }
            return next
        }
        return [next, later].compactMap { $0 }.min()
    }
}
