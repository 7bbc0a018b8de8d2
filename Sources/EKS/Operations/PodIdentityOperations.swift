import Foundation
import RegionStore

/// EKS Pod Identity associations: pods of a service account get the associated role's credentials from
/// `eks-auth:AssumeRoleForPodIdentity`. Each change is in force on the cluster's API server when the call returns.
extension EKSService {
    public func createPodIdentityAssociation(clusterName: String, _ input: CreatePodIdentityAssociationRequest) async throws -> PodIdentityAssociation {
        try Validation.roleArn(input.roleArn, field: "roleArn")
        guard Validation.isDNSLabel(input.namespace) else {
            throw EKSError.invalidParameter("The namespace \(input.namespace) is not a valid Kubernetes namespace name.", cluster: clusterName)
        }
        guard Validation.isDNSSubdomain(input.serviceAccount) else {
            throw EKSError.invalidParameter("The service account \(input.serviceAccount) is not a valid Kubernetes service account name.",
                                            cluster: clusterName)
        }
        try Validation.tags(input.tags ?? [:]) { EKSError.invalidParameter($0, cluster: clusterName) }
        let association: PodIdentityAssociation = try await write { [self] tx in
            _ = try cluster(tx, clusterName)
            let existing = try tx.all(PodIdentityAssociationRecord.self, keyPrefix: clusterName + "/")
            if let same = existing.first(where: { $0.association.namespace == input.namespace && $0.association.serviceAccount == input.serviceAccount }) {
                if let token = input.clientRequestToken, same.clientRequestToken == token { return same.association }
                throw EKSError.inUse("Association already exists: \(same.association.associationId)", cluster: clusterName)
            }
            return try insertPodIdentityAssociation(tx, clusterName: clusterName, namespace: input.namespace,
                                                    serviceAccount: input.serviceAccount, roleArn: input.roleArn, tags: input.tags ?? [:],
                                                    disableSessionTags: input.disableSessionTags ?? false,
                                                    clientRequestToken: input.clientRequestToken)
        }
        await publishAccess(clusterName: clusterName)
        return association
    }

    public func describePodIdentityAssociation(clusterName: String, associationId: String) async throws -> PodIdentityAssociation {
        try await read { [self] reader in try podIdentityAssociation(reader, clusterName, associationId).association }
    }

    public func listPodIdentityAssociations(clusterName: String, namespace: String?, serviceAccount: String?, maxResults: Int?,
                                            nextToken: String?) async throws -> ListPage<PodIdentityAssociationSummary> {
        let summaries: [PodIdentityAssociationSummary] = try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            return try reader.all(PodIdentityAssociationRecord.self, keyPrefix: clusterName + "/").map(\.association)
                .filter { namespace == nil || $0.namespace == namespace }
                .filter { serviceAccount == nil || $0.serviceAccount == serviceAccount }
                .sorted { $0.associationId < $1.associationId }
                .map { PodIdentityAssociationSummary(clusterName: $0.clusterName, namespace: $0.namespace, serviceAccount: $0.serviceAccount,
                                                     associationArn: $0.associationArn, associationId: $0.associationId) }
        }
        return try Paging.page(summaries, key: \.associationId, maxResults: maxResults, nextToken: nextToken)
    }

    public func updatePodIdentityAssociation(clusterName: String, associationId: String,
                                             _ input: UpdatePodIdentityAssociationRequest) async throws -> PodIdentityAssociation {
        if let roleArn = input.roleArn { try Validation.roleArn(roleArn, field: "roleArn") }
        let association: PodIdentityAssociation = try await write { [self] tx in
            var record = try podIdentityAssociation(tx.reader, clusterName, associationId)
            try ensureNotOwned(record)
            if let roleArn = input.roleArn { record.association.roleArn = roleArn }
            if let disable = input.disableSessionTags { record.association.disableSessionTags = disable }
            record.association.modifiedAt = Date()
            try tx.save(record)
            return record.association
        }
        await publishAccess(clusterName: clusterName)
        return association
    }

    public func deletePodIdentityAssociation(clusterName: String, associationId: String) async throws -> PodIdentityAssociation {
        let association: PodIdentityAssociation = try await write { [self] tx in
            let record = try podIdentityAssociation(tx.reader, clusterName, associationId)
            try ensureNotOwned(record)
            try tx.delete(PodIdentityAssociationRecord.self, record.storeKey)
            return record.association
        }
        await publishAccess(clusterName: clusterName)
        return association
    }

    func insertPodIdentityAssociation(_ tx: RecordTransaction, clusterName: String, namespace: String, serviceAccount: String,
                                      roleArn: String, tags: [String: String], disableSessionTags: Bool = false,
                                      ownerArn: String? = nil, clientRequestToken: String? = nil) throws -> PodIdentityAssociation {
        let id = "a-" + String((0..<17).map { _ in Array("abcdefghijklmnopqrstuvwxyz0123456789").randomElement()! })
        let now = Date()
        let association = PodIdentityAssociation(
            clusterName: clusterName, namespace: namespace, serviceAccount: serviceAccount, roleArn: roleArn,
            associationArn: "arn:aws:eks:\(region.name):\(region.account):podidentityassociation/\(clusterName)/\(id)",
            associationId: id, tags: tags, createdAt: now, modifiedAt: now, disableSessionTags: disableSessionTags, ownerArn: ownerArn)
        try tx.insert(PodIdentityAssociationRecord(association: association, clientRequestToken: clientRequestToken))
        return association
    }

    /// An add-on's association changes only through the add-on.
    private func ensureNotOwned(_ record: PodIdentityAssociationRecord) throws {
        if let owner = record.association.ownerArn {
            throw EKSError.invalidRequest("Pod Identity Association \(record.association.associationId) is owned by \(owner); change it through the add-on.",
                                          cluster: record.association.clusterName)
        }
    }

    /// The association of a service account, for `AssumeRoleForPodIdentity`.
    public func podIdentityAssociation(clusterName: String, namespace: String, serviceAccount: String) async throws -> PodIdentityAssociation? {
        try await read { reader in
            try reader.all(PodIdentityAssociationRecord.self, keyPrefix: clusterName + "/").map(\.association)
                .first { $0.namespace == namespace && $0.serviceAccount == serviceAccount }
        }
    }

    private func podIdentityAssociation(_ reader: RecordReader, _ clusterName: String, _ id: String) throws -> PodIdentityAssociationRecord {
        guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
        guard let record = try reader.get(PodIdentityAssociationRecord.self, "\(clusterName)/\(id)") else {
            throw EKSError.notFound("No Pod Identity Association found for id: \(id).", cluster: clusterName)
        }
        return record
    }
}
