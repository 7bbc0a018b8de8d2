import RegionStore

extension EKSService {
    /// The record an EKS ARN names: a cluster (`…:cluster/NAME`), a node group (`…:nodegroup/CLUSTER/NAME/ID`) or an
    /// add-on (`…:addon/CLUSTER/NAME/ID`).
    private enum TagTarget {
        case cluster(String)
        case nodegroup(cluster: String, name: String)
        case addon(cluster: String, name: String)
        case identityProviderConfig(cluster: String, name: String)
        case subscription(id: String)
        case fargateProfile(cluster: String, name: String)
        case capability(cluster: String, name: String)
    }

    private func tagTarget(_ arn: String) throws(EKSError) -> TagTarget {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "eks" else {
            throw EKSError.badRequest("\(arn) is not a valid resource ARN.")
        }
        guard parts[3] == region.name, parts[4] == region.account else { throw EKSError.tagTargetNotFound(arn) }
        let path = parts[5].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (path.first, path.count) {
        case ("cluster", 2): return .cluster(path[1])
        case ("nodegroup", 4): return .nodegroup(cluster: path[1], name: path[2])
        case ("addon", 4): return .addon(cluster: path[1], name: path[2])
        case ("identityproviderconfig", 5): return .identityProviderConfig(cluster: path[1], name: path[3])
        case ("eks-anywhere-subscription", 2): return .subscription(id: path[1])
        case ("fargateprofile", 4): return .fargateProfile(cluster: path[1], name: path[2])
        case ("capability", 4): return .capability(cluster: path[1], name: path[2])
        default: throw EKSError.badRequest("\(arn) is not a taggable EKS resource ARN.")
        }
    }

    /// Reads or rewrites the tags of the resource `arn` names; the ARN must match the live resource exactly.
    private func withTags<T: Sendable>(_ arn: String, _ body: @Sendable @escaping (inout [String: String]) throws -> T) async throws -> T {
        let target = try tagTarget(arn)
        return try await write { tx in
            switch target {
            case .cluster(let name):
                if var registered = try tx.get(RegisteredClusterRecord.self, name), registered.cluster.arn == arn {
                    let result = try body(&registered.cluster.tags)
                    try tx.save(registered)
                    return result
                }
                guard var record = try tx.get(ClusterRecord.self, name), record.cluster.arn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                let result = try body(&record.cluster.tags)
                try tx.save(record)
                return result
            case .identityProviderConfig(let cluster, let name):
                guard var record = try tx.get(IdentityProviderConfigRecord.self, IdentityProviderConfigRecord.key(cluster: cluster, name: name)),
                      record.config.identityProviderConfigArn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                var tags = record.config.tags ?? [:]
                let result = try body(&tags)
                record.config.tags = tags.isEmpty ? nil : tags
                try tx.save(record)
                return result
            case .fargateProfile(let cluster, let name):
                guard var record = try tx.get(FargateProfileRecord.self, FargateProfileRecord.key(cluster: cluster, name: name)),
                      record.profile.fargateProfileArn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                let result = try body(&record.profile.tags)
                try tx.save(record)
                return result
            case .capability(let cluster, let name):
                guard var record = try tx.get(CapabilityRecord.self, CapabilityRecord.key(cluster: cluster, name: name)),
                      record.capability.arn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                let result = try body(&record.capability.tags)
                try tx.save(record)
                return result
            case .subscription(let id):
                guard var record = try tx.get(EksAnywhereSubscriptionRecord.self, id), record.subscription.arn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                let result = try body(&record.subscription.tags)
                try tx.save(record)
                return result
            case .nodegroup(let cluster, let name):
                guard var record = try tx.get(NodegroupRecord.self, NodegroupRecord.key(cluster: cluster, nodegroup: name)),
                      record.nodegroup.nodegroupArn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                let result = try body(&record.nodegroup.tags)
                try tx.save(record)
                return result
            case .addon(let cluster, let name):
                guard var record = try tx.get(AddonRecord.self, AddonRecord.key(cluster: cluster, addon: name)), record.addon.addonArn == arn else {
                    throw EKSError.tagTargetNotFound(arn)
                }
                let result = try body(&record.addon.tags)
                try tx.save(record)
                return result
            }
        }
    }

    public func tagResource(arn: String, tags: [String: String]) async throws {
        guard !tags.isEmpty else { throw EKSError.badRequest("tags must not be empty.") }
        try await withTags(arn) { current in
            try Validation.tags(current.merging(tags) { $1 }, error: EKSError.badRequest)
            current.merge(tags) { $1 }
        }
    }

    public func untagResource(arn: String, tagKeys: [String]) async throws {
        guard !tagKeys.isEmpty else { throw EKSError.badRequest("tagKeys must not be empty.") }
        try await withTags(arn) { current in
            for key in tagKeys { current.removeValue(forKey: key) }
        }
    }

    public func listTagsForResource(arn: String) async throws -> [String: String] {
        try await withTags(arn) { $0 }
    }
}
