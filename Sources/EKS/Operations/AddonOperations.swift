import Foundation
import KubeModel
import RegionStore

/// EKS add-ons: versions of vpc-cni, kube-proxy, coredns and the others of `AddonCatalog`, each installed as the
/// objects it consists of in the cluster. A create, update or delete is recorded at once and carried out by the
/// provisioner (`advanceAddons`), which applies or deletes the objects through the cluster's API server.
extension EKSService {
    public func describeAddonVersions(kubernetesVersion: String?, addonName: String?, types: [String]?, publishers: [String]?,
                                      owners: [String]?, maxResults: Int?, nextToken: String?) throws -> ListPage<AddonInfo> {
        let infos: [AddonInfo] = AddonCatalog.all
            .filter { addonName == nil || $0.name == addonName }
            .filter { types == nil || types!.contains($0.type) }
            .filter { publishers == nil || publishers!.contains($0.publisher) }
            .filter { owners == nil || owners!.contains($0.owner) }
            .compactMap { definition in
                let versions = definition.versions.compactMap { version -> AddonVersionInfo? in
                    let minors = version.clusterVersions.filter { kubernetesVersion == nil || $0 == kubernetesVersion }
                    guard !minors.isEmpty else { return nil }
                    return AddonVersionInfo(
                        addonVersion: version.version, architecture: definition.architectures, computeTypes: definition.computeTypes,
                        compatibilities: minors.map {
                            AddonCompatibility(clusterVersion: $0, platformVersions: ["*"], defaultVersion: version.defaultFor.contains($0))
                        },
                        requiresConfiguration: false, requiresIamPermissions: definition.requiresIamPermissions)
                }
                guard !versions.isEmpty else { return nil }
                return AddonInfo(addonName: definition.name, type: definition.type, addonVersions: versions, publisher: definition.publisher,
                                 owner: definition.owner, defaultNamespace: definition.defaultNamespace)
            }
        return try Paging.page(infos, key: \.addonName, maxResults: maxResults, nextToken: nextToken)
    }

    public func describeAddonConfiguration(addonName: String, addonVersion: String) throws -> AddonConfiguration {
        guard let definition = AddonCatalog.named(addonName), definition.version(addonVersion) != nil else {
            throw EKSError.notFound("Addon \(addonName) with version \(addonVersion) is not found").about(addon: addonName)
        }
        return AddonConfiguration(addonName: addonName, addonVersion: addonVersion,
                                  configurationSchema: String(decoding: JSONCoding.encode(definition.configurationSchema), as: UTF8.self),
                                  podIdentityConfiguration: definition.podIdentity)
    }

    public func createAddon(clusterName: String, _ input: CreateAddonRequest) async throws -> Addon {
        let name = input.addonName
        let failure: @Sendable (EKSError) -> EKSError = { $0.about(addon: name) }
        guard let definition = AddonCatalog.named(name) else {
            throw failure(.invalidParameter("Addon \(name) specified is not supported", cluster: clusterName))
        }
        if let role = input.serviceAccountRoleArn { try Validation.roleArn(role, field: "serviceAccountRoleArn") }
        try Validation.tags(input.tags ?? [:]) { failure(.invalidParameter($0, cluster: clusterName)) }
        let namespace = try addonNamespace(definition, input.namespaceConfig, cluster: clusterName)
        do {
            _ = try ConfigurationValues.parse(input.configurationValues, schema: definition.configurationSchema)
        } catch {
            throw failure(error.withCluster(clusterName))
        }
        let addon: Addon = try await write { [self] tx in
            let cluster = try cluster(tx, clusterName)
            let key = AddonRecord.key(cluster: clusterName, addon: name)
            if let existing = try tx.get(AddonRecord.self, key) {
                if let token = input.clientRequestToken, existing.clientRequestToken == token { return existing.addon }
                throw failure(.inUse("Addon already exists.", cluster: clusterName))
            }
            guard [.ACTIVE, .UPDATING].contains(cluster.cluster.status) else {
                throw failure(.invalidRequest("Cluster \(clusterName) is in \(cluster.cluster.status.rawValue) state; add-ons can be created once it is ACTIVE.",
                                              cluster: clusterName))
            }
            let version = try addonVersion(definition, input.addonVersion, cluster: cluster)
            let now = Date()
            let arn = "arn:aws:eks:\(region.name):\(region.account):addon/\(clusterName)/\(name)/\(UUID().uuidString.lowercased())"
            let associations = try insertAddonAssociations(tx, definition, input.podIdentityAssociations ?? [], namespace: namespace,
                                                           clusterName: clusterName, ownerArn: arn, tags: input.tags ?? [:])
            let addon = Addon(addonName: name, clusterName: clusterName, status: .CREATING, addonVersion: version, health: AddonHealth(),
                              addonArn: arn, createdAt: now, modifiedAt: now, serviceAccountRoleArn: input.serviceAccountRoleArn,
                              tags: input.tags ?? [:], publisher: definition.publisher, owner: definition.owner,
                              configurationValues: input.configurationValues,
                              podIdentityAssociations: associations.isEmpty ? nil : associations,
                              namespaceConfig: input.namespaceConfig.map { _ in AddonNamespaceConfig(namespace: namespace) })
            // PRESERVE creates as NONE does: a self-managed add-on's edited fields make the create fail.
            try tx.insert(AddonRecord(addon: addon, clientRequestToken: input.clientRequestToken, dueAt: dueTime(from: now),
                                      resolveConflicts: input.resolveConflicts == .OVERWRITE ? .OVERWRITE : .NONE))
            return addon
        }
        if addon.podIdentityAssociations != nil { await publishAccess(clusterName: clusterName) }
        transitionScheduled()
        return addon
    }

    public func describeAddon(clusterName: String, addonName: String) async throws -> Addon {
        let record = try await read { [self] reader in try addon(reader, clusterName, addonName) }
        return await liveView(record)
    }

    public func listAddons(clusterName: String, maxResults: Int?, nextToken: String?) async throws -> ListPage<String> {
        let names: [String] = try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            return try reader.all(AddonRecord.self, keyPrefix: clusterName + "/").map(\.addon.addonName).sorted()
        }
        return try Paging.page(names, key: { $0 }, maxResults: maxResults, nextToken: nextToken)
    }

    public func updateAddon(clusterName: String, addonName: String, _ input: UpdateAddonRequest) async throws -> Update {
        let failure: @Sendable (EKSError) -> EKSError = { $0.about(addon: addonName) }
        if let role = input.serviceAccountRoleArn, !role.isEmpty { try Validation.roleArn(role, field: "serviceAccountRoleArn") }
        let update: Update = try await write { [self] tx in
            var record = try addon(tx.reader, clusterName, addonName)
            let cluster = try cluster(tx, clusterName)
            guard let definition = AddonCatalog.named(addonName) else {
                throw failure(.invalidParameter("Addon \(addonName) specified is not supported", cluster: clusterName))
            }
            let version = try input.addonVersion.map { try addonVersion(definition, $0, cluster: cluster) } ?? record.addon.addonVersion
            let configuration = input.configurationValues ?? record.addon.configurationValues
            do {
                _ = try ConfigurationValues.parse(configuration, schema: definition.configurationSchema)
            } catch let error as EKSError {
                throw failure(error.withCluster(clusterName))
            }
            if let associations = input.podIdentityAssociations {
                try checkAddonAssociations(tx.reader, definition, associations, namespace: record.installation(.NONE).namespace,
                                           clusterName: clusterName, ownerArn: record.addon.addonArn)
            }
            switch record.addon.status.step(.updateRequested) {
            case .moveTo(let status): record.addon.status = status
            case .refuse, .remove:
                throw failure(.inUse("Addon \(addonName) cannot be updated as it is currently in \(record.addon.status.rawValue) state",
                                     cluster: clusterName))
            }
            let role = input.serviceAccountRoleArn.map { $0.isEmpty ? nil : $0 } ?? record.addon.serviceAccountRoleArn
            let change = AddonChange(addonVersion: version, serviceAccountRoleArn: role,
                                     configurationValues: configuration.flatMap { $0.isEmpty ? nil : $0 },
                                     resolveConflicts: input.resolveConflicts ?? .NONE,
                                     podIdentityAssociations: input.podIdentityAssociations)
            var params: [UpdateParam] = []
            if let version = input.addonVersion { params.append(UpdateParam("AddonVersion", version)) }
            if let role = input.serviceAccountRoleArn { params.append(UpdateParam("ServiceAccountRoleArn", role)) }
            if let resolve = input.resolveConflicts { params.append(UpdateParam("ResolveConflicts", resolve.rawValue)) }
            if let values = input.configurationValues { params.append(UpdateParam("ConfigurationValues", values)) }
            if let associations = input.podIdentityAssociations {
                params.append(UpdateParam("PodIdentityAssociations", try Self.json(associations)))
            }
            try tx.save(record)
            return try insertUpdate(tx, cluster: clusterName, nodegroup: nil, addon: addonName, type: .AddonUpdate, params: params,
                                    change: .addon(change))
        }
        transitionScheduled()
        return update
    }

    public func deleteAddon(clusterName: String, addonName: String, preserve: Bool) async throws -> Addon {
        let deleting: Addon = try await write { [self] tx in
            var record = try addon(tx.reader, clusterName, addonName)
            switch record.addon.status.step(.deleteRequested) {
            case .moveTo(let status): record.addon.status = status
            case .refuse, .remove:
                throw EKSError.inUse("Addon \(addonName) cannot be deleted as it is currently in \(record.addon.status.rawValue) state",
                                     cluster: clusterName).about(addon: addonName)
            }
            record.preserve = preserve
            record.dueAt = dueTime()
            record.addon.modifiedAt = Date()
            try tx.save(record)
            return record.addon
        }
        transitionScheduled()
        return deleting
    }

    // MARK: Checks

    func addon(_ reader: RecordReader, _ clusterName: String, _ addonName: String) throws -> AddonRecord {
        guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
        guard let record = try reader.get(AddonRecord.self, AddonRecord.key(cluster: clusterName, addon: addonName)) else {
            throw EKSError.notFound("No addon: \(addonName) found in cluster: \(clusterName)", cluster: clusterName).about(addon: addonName)
        }
        return record
    }

    /// The version asked for, which must run on the cluster's Kubernetes version; the default for it when none is.
    private func addonVersion(_ definition: AddonDefinition, _ requested: String?, cluster: ClusterRecord) throws -> String {
        let minor = cluster.cluster.version
        guard let requested else {
            guard let version = definition.defaultVersion(for: minor) else {
                throw EKSError.invalidParameter("Addon \(definition.name) is not supported on Kubernetes version \(minor)",
                                                cluster: cluster.cluster.name).about(addon: definition.name)
            }
            return version
        }
        guard let version = definition.version(requested), version.clusterVersions.contains(minor) else {
            throw EKSError.invalidParameter("Addon version specified is not supported", cluster: cluster.cluster.name).about(addon: definition.name)
        }
        return version.version
    }

    private func addonNamespace(_ definition: AddonDefinition, _ config: AddonNamespaceConfig?, cluster: String) throws -> String {
        guard let namespace = config?.namespace, namespace != definition.defaultNamespace else { return definition.defaultNamespace }
        guard definition.namespaceConfigurable else {
            throw EKSError.invalidParameter("Addon \(definition.name) does not support namespace configuration", cluster: cluster)
                .about(addon: definition.name)
        }
        guard Validation.isDNSLabel(namespace) else {
            throw EKSError.invalidParameter("The namespace \(namespace) is not a valid Kubernetes namespace name.", cluster: cluster)
                .about(addon: definition.name)
        }
        return namespace
    }

    /// Each association names one of the add-on's service accounts, once, and one no association outside the add-on holds.
    private func checkAddonAssociations(_ reader: RecordReader, _ definition: AddonDefinition, _ associations: [AddonPodIdentityAssociation],
                                        namespace: String, clusterName: String, ownerArn: String) throws {
        let failure = { (message: String) in EKSError.invalidParameter(message, cluster: clusterName).about(addon: definition.name) }
        let existing = try reader.all(PodIdentityAssociationRecord.self, keyPrefix: clusterName + "/").map(\.association)
        var seen: Set<String> = []
        for association in associations {
            try Validation.roleArn(association.roleArn, field: "roleArn")
            guard definition.podIdentity.contains(where: { $0.serviceAccount == association.serviceAccount }) else {
                throw failure("The service account \(association.serviceAccount) is not used by addon \(definition.name); it uses: "
                              + (definition.podIdentity.map(\.serviceAccount).joined(separator: ", ").nilIfEmpty ?? "none"))
            }
            guard seen.insert(association.serviceAccount).inserted else {
                throw failure("The service account \(association.serviceAccount) is named by more than one Pod Identity association.")
            }
            if let other = existing.first(where: { $0.namespace == namespace && $0.serviceAccount == association.serviceAccount && $0.ownerArn != ownerArn }) {
                throw EKSError.inUse("Service account \(association.serviceAccount) in namespace \(namespace) already has Pod Identity association \(other.associationId).",
                                     cluster: clusterName).about(addon: definition.name)
            }
        }
    }

    /// The add-on's Pod Identity associations, owned by it; returns their ARNs.
    func insertAddonAssociations(_ tx: RecordTransaction, _ definition: AddonDefinition, _ associations: [AddonPodIdentityAssociation],
                                 namespace: String, clusterName: String, ownerArn: String, tags: [String: String]) throws -> [String] {
        try checkAddonAssociations(tx.reader, definition, associations, namespace: namespace, clusterName: clusterName, ownerArn: ownerArn)
        return try associations.map {
            try insertPodIdentityAssociation(tx, clusterName: clusterName, namespace: namespace, serviceAccount: $0.serviceAccount,
                                             roleArn: $0.roleArn, tags: tags, ownerArn: ownerArn).associationArn
        }
    }

    /// Deletes the associations the add-on owns.
    func deleteAddonAssociations(_ tx: RecordTransaction, clusterName: String, ownerArn: String) throws {
        for record in try tx.all(PodIdentityAssociationRecord.self, keyPrefix: clusterName + "/") where record.association.ownerArn == ownerArn {
            try tx.delete(PodIdentityAssociationRecord.self, record.storeKey)
        }
    }

    /// The add-on as described: an ACTIVE one whose pods are not all ready is DEGRADED, with the issues that say why.
    private func liveView(_ record: AddonRecord) async -> Addon {
        var addon = record.addon
        guard [.ACTIVE, .DEGRADED].contains(addon.status) else { return addon }
        let issues = await controlPlanes.addonHealth(clusterName: addon.clusterName, record.installation(record.resolveConflicts))
        addon.health = AddonHealth(issues: issues)
        addon.status = issues.isEmpty ? .ACTIVE : .DEGRADED
        return addon
    }
}

extension EKSError {
    func withCluster(_ name: String) -> EKSError {
        var error = self
        error.clusterName = name
        return error
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
