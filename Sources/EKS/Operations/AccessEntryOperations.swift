import Foundation
import RegionStore

/// Access entries: which IAM principals may use a cluster's Kubernetes API, as which user and groups,
/// with which access policies. Each change is in force on the cluster's API server when the call returns.
extension EKSService {
    static let entryTypes = ["STANDARD", "FARGATE_LINUX", "EC2_LINUX", "EC2_WINDOWS", "EC2", "HYBRID_LINUX", "HYPERPOD_LINUX"]

    /// The user and groups EKS gives the entry of each node type. EC2 instances are named by their private DNS
    /// name, Fargate, hybrid and Auto Mode nodes by the session name their role is assumed with; Auto Mode's
    /// permissions come from `AmazonEKSAutoNodePolicy` rather than a group.
    static func nodeIdentity(type: String) -> (username: String, groups: [String]) {
        switch type {
        case "EC2_LINUX": ("system:node:{{EC2PrivateDNSName}}", ["system:nodes"])
        case "EC2_WINDOWS": ("system:node:{{EC2PrivateDNSName}}", ["system:nodes", "eks:kube-proxy-windows"])
        case "FARGATE_LINUX": ("system:node:{{SessionName}}", ["system:bootstrappers", "system:nodes", "system:node-proxier"])
        case "EC2": ("system:node:{{SessionName}}", [])
        default: ("system:node:{{SessionName}}", ["system:nodes"])
        }
    }
    static let reservedPrefixes = ["system:", "eks:", "aws:", "amazon:", "iam:"]

    public func createAccessEntry(clusterName: String, _ input: CreateAccessEntryRequest) async throws -> AccessEntry {
        let type = input.type ?? "STANDARD"
        guard Self.entryTypes.contains(type) else {
            throw EKSError.invalidParameter("The type \(type) is not valid. Valid types: \(Self.entryTypes.joined(separator: ", ")).",
                                            cluster: clusterName)
        }
        let principal = try Self.principal(input.principalArn, cluster: clusterName)
        let isNode = type != "STANDARD"
        if isNode {
            guard principal.kind == "role" else {
                throw EKSError.invalidParameter("The principalArn of an access entry of type \(type) must be an IAM role.", cluster: clusterName)
            }
            guard input.kubernetesGroups?.isEmpty ?? true, input.username == nil else {
                throw EKSError.invalidParameter("kubernetesGroups and username cannot be specified for an access entry of type \(type).",
                                                cluster: clusterName)
            }
        }
        try Self.validate(username: input.username, groups: input.kubernetesGroups ?? [], cluster: clusterName)
        try Validation.tags(input.tags ?? [:]) { EKSError.invalidParameter($0, cluster: clusterName) }
        let now = Date()
        let entry: AccessEntry = try await write { [self] tx in
            let cluster = try accessEntriesCluster(tx.reader, clusterName)
            let key = AccessEntryRecord.key(cluster: clusterName, principalArn: input.principalArn)
            if let existing = try tx.get(AccessEntryRecord.self, key) {
                if let token = input.clientRequestToken, existing.clientRequestToken == token { return existing.entry }
                throw EKSError.inUse("The specified access entry resource is already in use on this cluster.", cluster: clusterName)
            }
            let node = Self.nodeIdentity(type: type)
            let entry = AccessEntry(
                clusterName: clusterName, principalArn: input.principalArn,
                kubernetesGroups: isNode ? node.groups : (input.kubernetesGroups ?? []),
                accessEntryArn: accessEntryArn(cluster: cluster.cluster.name, principal: principal), createdAt: now, modifiedAt: now,
                tags: input.tags ?? [:],
                username: isNode ? node.username : (input.username ?? Self.defaultUsername(principal)),
                type: type)
            try tx.insert(AccessEntryRecord(entry: entry, policies: [], clientRequestToken: input.clientRequestToken))
            return entry
        }
        await publishAccess(clusterName: clusterName)
        return entry
    }

    public func describeAccessEntry(clusterName: String, principalArn: String) async throws -> AccessEntry {
        try await read { [self] reader in try accessEntry(reader, cluster: clusterName, principalArn).entry }
    }

    public func listAccessEntries(clusterName: String, associatedPolicyArn: String?, maxResults: Int?,
                                  nextToken: String?) async throws -> ListPage<String> {
        let arns: [String] = try await read { [self] reader in
            _ = try accessEntriesCluster(reader, clusterName)
            return try reader.all(AccessEntryRecord.self, keyPrefix: clusterName + "/")
                .filter { record in associatedPolicyArn.map { arn in record.policies.contains { $0.policyArn == arn } } ?? true }
                .map(\.entry.principalArn).sorted()
        }
        return try Paging.page(arns, key: { $0 }, maxResults: maxResults, nextToken: nextToken)
    }

    public func updateAccessEntry(clusterName: String, principalArn: String, _ input: UpdateAccessEntryRequest) async throws -> AccessEntry {
        try Self.validate(username: input.username, groups: input.kubernetesGroups ?? [], cluster: clusterName)
        let entry: AccessEntry = try await write { [self] tx in
            var record = try accessEntry(tx.reader, cluster: clusterName, principalArn)
            if record.entry.type != "STANDARD", input.kubernetesGroups != nil || input.username != nil {
                throw EKSError.invalidParameter("kubernetesGroups and username cannot be specified for an access entry of type \(record.entry.type).",
                                                cluster: clusterName)
            }
            if let groups = input.kubernetesGroups { record.entry.kubernetesGroups = groups }
            if let username = input.username { record.entry.username = username }
            record.entry.modifiedAt = Date()
            try tx.save(record)
            return record.entry
        }
        await publishAccess(clusterName: clusterName)
        return entry
    }

    public func deleteAccessEntry(clusterName: String, principalArn: String) async throws {
        try await write { [self] tx in
            let record = try accessEntry(tx.reader, cluster: clusterName, principalArn)
            try tx.delete(AccessEntryRecord.self, record.storeKey)
        }
        await publishAccess(clusterName: clusterName)
    }

    public func associateAccessPolicy(clusterName: String, principalArn: String,
                                      _ input: AssociateAccessPolicyRequest) async throws -> AssociatedAccessPolicy {
        let policyArn = input.policyArn
        guard policyArn.hasPrefix("arn:aws:eks::aws:cluster-access-policy/") else {
            throw EKSError.invalidParameter("The policyArn parameter format is not valid.", cluster: clusterName)
        }
        guard let policyName = AccessPolicies.name(ofArn: policyArn) else {
            throw EKSError.notFound("The specified policy \(policyArn) could not be found.", cluster: clusterName)
        }
        let scope = try Self.validate(scope: input.accessScope, cluster: clusterName)
        if AccessPolicies.clusterScopeOnly.contains(policyName), scope.type != .cluster {
            throw EKSError.invalidParameter("The access scope of \(policyName) can only be cluster.", cluster: clusterName)
        }
        if AccessPolicies.serviceLinkedRolesOnly.contains(policyName), !principalArn.contains(":role/aws-service-role/") {
            throw EKSError.invalidParameter("The specified policyArn can only be associated with service-linked roles.", cluster: clusterName)
        }
        let association: AssociatedAccessPolicy = try await write { [self] tx in
            var record = try accessEntry(tx.reader, cluster: clusterName, principalArn)
            let wantedType = AccessPolicies.entryType(of: policyName)
            guard record.entry.type == wantedType else {
                throw EKSError.invalidRequest(wantedType == "STANDARD"
                                                  ? "Access policies cannot be associated with an access entry of type \(record.entry.type)."
                                                  : "\(policyName) can only be associated with an access entry of type \(wantedType).",
                                              cluster: clusterName)
            }
            let now = Date()
            var association = AssociatedAccessPolicy(policyArn: policyArn, accessScope: scope, associatedAt: now, modifiedAt: now)
            if let index = record.policies.firstIndex(where: { $0.policyArn == policyArn }) {
                // Associating again replaces the scope, as EKS does.
                association.associatedAt = record.policies[index].associatedAt
                record.policies[index] = association
            } else {
                record.policies.append(association)
            }
            try tx.save(record)
            return association
        }
        await publishAccess(clusterName: clusterName)
        return association
    }

    public func disassociateAccessPolicy(clusterName: String, principalArn: String, policyArn: String) async throws {
        try await write { [self] tx in
            var record = try accessEntry(tx.reader, cluster: clusterName, principalArn)
            guard let index = record.policies.firstIndex(where: { $0.policyArn == policyArn }) else {
                throw EKSError.notFound("The specified policy \(policyArn) is not associated with the access entry \(principalArn).",
                                        cluster: clusterName)
            }
            record.policies.remove(at: index)
            try tx.save(record)
        }
        await publishAccess(clusterName: clusterName)
    }

    public func listAssociatedAccessPolicies(clusterName: String, principalArn: String, maxResults: Int?,
                                             nextToken: String?) async throws -> ListPage<AssociatedAccessPolicy> {
        let policies = try await read { [self] reader in
            try accessEntry(reader, cluster: clusterName, principalArn).policies.sorted { $0.policyArn < $1.policyArn }
        }
        return try Paging.page(policies, key: \.policyArn, maxResults: maxResults, nextToken: nextToken)
    }

    public func listAccessPolicies(maxResults: Int?, nextToken: String?) throws -> ListPage<AccessPolicy> {
        try Paging.page(AccessPolicies.all, key: \.arn, maxResults: maxResults, nextToken: nextToken)
    }

    // MARK: What the cluster's API server is told

    /// The cluster's access as its authenticator reads it.
    func clusterAccess(_ reader: RecordReader, _ record: ClusterRecord) throws -> ClusterAccess {
        let mode = record.cluster.accessConfig.authenticationMode
        var entries: [String: ClusterAccess.Entry] = [:]
        for entry in try reader.all(AccessEntryRecord.self, keyPrefix: record.cluster.name + "/") {
            entries[entry.entry.principalArn] = ClusterAccess.Entry(
                username: entry.entry.username, groups: entry.entry.kubernetesGroups, type: entry.entry.type,
                policies: entry.policies.compactMap { policy in
                    AccessPolicies.name(ofArn: policy.policyArn).map {
                        ClusterAccess.PolicyGrant(policyName: $0, namespaces: policy.accessScope.type == .namespace ? policy.accessScope.namespaces ?? [] : nil)
                    }
                })
        }
        let creatorIsAdmin = record.cluster.accessConfig.bootstrapClusterCreatorAdminPermissions ?? true
        var podIdentities: [String: String] = [:]
        for association in try reader.all(PodIdentityAssociationRecord.self, keyPrefix: record.cluster.name + "/").map(\.association) {
            podIdentities["\(association.namespace)/\(association.serviceAccount)"] = association.roleArn
        }
        let nodeRoles = Set(try reader.all(NodegroupRecord.self, keyPrefix: record.cluster.name + "/").map(\.nodegroup.nodeRole)).sorted()
        return ClusterAccess(authenticationMode: mode.rawValue, entries: entries,
                             implicitAdminArn: mode == .CONFIG_MAP && creatorIsAdmin ? record.creatorArn : nil, podIdentities: podIdentities,
                             nodeRoles: nodeRoles, oidcProviders: try oidcProviders(reader, clusterName: record.cluster.name))
    }

    /// Tells the cluster's running control plane who may now use it.
    func publishAccess(clusterName: String) async {
        guard let access = try? await read({ [self] reader -> ClusterAccess? in
            try reader.get(ClusterRecord.self, clusterName).map { try clusterAccess(reader, $0) }
        }) else { return }
        await controlPlanes.updateAccess(clusterName: clusterName, access)
    }

    /// The creator's access entry with cluster admin, as EKS makes it when a cluster with
    /// `bootstrapClusterCreatorAdminPermissions` starts using access entries (at creation or on leaving `CONFIG_MAP`).
    func insertCreatorEntry(_ tx: RecordTransaction, _ record: ClusterRecord) throws {
        guard record.cluster.accessConfig.bootstrapClusterCreatorAdminPermissions ?? true,
              record.cluster.accessConfig.authenticationMode != .CONFIG_MAP,
              let creator = record.creatorArn, let principal = try? Self.principal(creator, cluster: record.cluster.name),
              try tx.get(AccessEntryRecord.self, AccessEntryRecord.key(cluster: record.cluster.name, principalArn: creator)) == nil
        else { return }
        let now = Date()
        let entry = AccessEntry(clusterName: record.cluster.name, principalArn: creator, kubernetesGroups: [],
                                accessEntryArn: accessEntryArn(cluster: record.cluster.name, principal: principal),
                                createdAt: now, modifiedAt: now, tags: [:], username: Self.defaultUsername(principal), type: "STANDARD")
        let admin = AssociatedAccessPolicy(policyArn: AccessPolicies.arn(AccessPolicies.clusterAdmin),
                                           accessScope: AccessScope(type: .cluster, namespaces: []), associatedAt: now, modifiedAt: now)
        try tx.insert(AccessEntryRecord(entry: entry, policies: [admin], clientRequestToken: nil))
    }

    /// A managed node group's node role gets an `EC2_LINUX` access entry, as EKS makes it when the cluster uses
    /// access entries (on `CONFIG_MAP` clusters its row in aws-auth serves instead).
    func insertNodeRoleEntry(_ tx: RecordTransaction, _ cluster: ClusterRecord, role: String) throws {
        guard cluster.cluster.accessConfig.authenticationMode != .CONFIG_MAP,
              let principal = try? Self.principal(role, cluster: cluster.cluster.name), principal.kind == "role",
              try tx.get(AccessEntryRecord.self, AccessEntryRecord.key(cluster: cluster.cluster.name, principalArn: role)) == nil else { return }
        let now = Date()
        let node = Self.nodeIdentity(type: "EC2_LINUX")
        let entry = AccessEntry(clusterName: cluster.cluster.name, principalArn: role, kubernetesGroups: node.groups,
                                accessEntryArn: accessEntryArn(cluster: cluster.cluster.name, principal: principal),
                                createdAt: now, modifiedAt: now, tags: [:], username: node.username, type: "EC2_LINUX")
        try tx.insert(AccessEntryRecord(entry: entry, policies: [], clientRequestToken: nil))
    }

    /// When its last node group goes, the node role's `EC2_LINUX` entry goes with it.
    func removeNodeRoleEntry(_ tx: RecordTransaction, clusterName: String, role: String) throws {
        guard try tx.all(NodegroupRecord.self, keyPrefix: clusterName + "/").allSatisfy({ $0.nodegroup.nodeRole != role }),
              let entry = try tx.get(AccessEntryRecord.self, AccessEntryRecord.key(cluster: clusterName, principalArn: role)),
              entry.entry.type == "EC2_LINUX" else { return }
        try tx.delete(AccessEntryRecord.self, entry.storeKey)
    }

    // MARK: Checks

    struct Principal {
        let account: String
        /// `user`, `role` or `root`.
        let kind: String
        /// The name without its path; empty for a root.
        let name: String
    }

    /// An IAM user, role or account root ARN (roles and users may have paths).
    static func principal(_ arn: String, cluster: String) throws(EKSError) -> Principal {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "iam", parts[3].isEmpty,
              parts[4].count == 12, parts[4].allSatisfy({ ("0"..."9").contains($0) }) else {
            throw EKSError.invalidParameter("The principalArn parameter format is not valid", cluster: cluster)
        }
        if parts[5] == "root" { return Principal(account: parts[4], kind: "root", name: "") }
        let resource = parts[5].split(separator: "/", omittingEmptySubsequences: false)
        guard resource.count >= 2, ["user", "role"].contains(resource[0]), let name = resource.last, !name.isEmpty else {
            throw EKSError.invalidParameter("The principalArn parameter format is not valid", cluster: cluster)
        }
        return Principal(account: parts[4], kind: String(resource[0]), name: String(name))
    }

    /// What EKS names a principal's user when the entry gives none: a user's ARN; for a role, its sessions' ARN.
    static func defaultUsername(_ principal: Principal) -> String {
        switch principal.kind {
        case "role": "arn:aws:sts::\(principal.account):assumed-role/\(principal.name)/{{SessionName}}"
        case "user": "arn:aws:iam::\(principal.account):user/\(principal.name)"
        default: "arn:aws:iam::\(principal.account):root"
        }
    }

    static func validate(username: String?, groups: [String], cluster: String) throws(EKSError) {
        if let username {
            guard !username.isEmpty, !reservedPrefixes.contains(where: { username.hasPrefix($0) }) else {
                throw EKSError.invalidParameter("The username \(username) is not valid: it cannot be empty or start with "
                    + reservedPrefixes.joined(separator: ", ") + ".", cluster: cluster)
            }
        }
        for group in groups where group.isEmpty || reservedPrefixes.contains(where: { group.hasPrefix($0) }) {
            throw EKSError.invalidParameter("The kubernetes group name \(group) is not valid: it cannot be empty or start with "
                + reservedPrefixes.joined(separator: ", ") + ".", cluster: cluster)
        }
    }

    static func validate(scope: AccessScope, cluster: String) throws(EKSError) -> AccessScope {
        switch scope.type {
        case .cluster:
            guard scope.namespaces?.isEmpty ?? true else {
                throw EKSError.invalidParameter("namespaces cannot be specified for an access scope of type cluster.", cluster: cluster)
            }
            return AccessScope(type: .cluster, namespaces: [])
        case .namespace:
            let namespaces = scope.namespaces ?? []
            guard !namespaces.isEmpty else {
                throw EKSError.invalidParameter("namespaces must be specified for an access scope of type namespace.", cluster: cluster)
            }
            // A trailing `*` matches by prefix, as EKS allows (`dev-*`).
            for namespace in namespaces where !Validation.isLabelName(namespace.hasSuffix("*") ? String(namespace.dropLast()) + "x" : namespace) {
                throw EKSError.invalidParameter("The namespace \(namespace) is not valid.", cluster: cluster)
            }
            return AccessScope(type: .namespace, namespaces: namespaces)
        case nil:
            throw EKSError.invalidParameter("accessScope.type must be cluster or namespace.", cluster: cluster)
        }
    }

    /// The cluster, refused unless its authentication mode uses access entries.
    private func accessEntriesCluster(_ reader: RecordReader, _ name: String) throws -> ClusterRecord {
        guard let record = try reader.get(ClusterRecord.self, name) else { throw EKSError.clusterNotFound(name) }
        guard record.cluster.accessConfig.authenticationMode != .CONFIG_MAP else {
            throw EKSError.invalidRequest("The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
                                          cluster: name)
        }
        return record
    }

    private func accessEntry(_ reader: RecordReader, cluster: String, _ principalArn: String) throws -> AccessEntryRecord {
        _ = try accessEntriesCluster(reader, cluster)
        guard let record = try reader.get(AccessEntryRecord.self, AccessEntryRecord.key(cluster: cluster, principalArn: principalArn)) else {
            throw EKSError.notFound("The specified principalArn could not be found. You can view your available access entries with 'list-access-entries'.",
                                    cluster: cluster)
        }
        return record
    }

    func accessEntryArn(cluster: String, principal: Principal) -> String {
        let id = UUID().uuidString.lowercased()
        return "arn:aws:eks:\(region.name):\(region.account):access-entry/\(cluster)/\(principal.kind)/\(principal.account)/\(principal.name.isEmpty ? "root" : principal.name)/\(id)"
    }
}
