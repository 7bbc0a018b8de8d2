import Foundation
import KubeModel
import RegionStore

/// OIDC identity providers: once a config's association update succeeds, the cluster's API server accepts ID
/// tokens its issuer signed for its client ID, mapped to users and groups by the config's claims and prefixes.
/// A cluster has at most one; associating and disassociating are cluster updates, one at a time.
extension EKSService {
    public func associateIdentityProviderConfig(clusterName: String, _ input: AssociateIdentityProviderConfigRequest) async throws
        -> (update: Update, tags: [String: String]?) {
        let oidc = input.oidc
        let name = oidc.identityProviderConfigName
        try Validation.name(name, field: "identityProviderConfigName", maxLength: 100)
        guard let issuer = URLComponents(string: oidc.issuerUrl), issuer.scheme == "https", issuer.host?.isEmpty == false,
              issuer.query == nil, issuer.fragment == nil else {
            throw EKSError.invalidParameter("The issuerUrl \(oidc.issuerUrl) must be an https URL with no query or fragment.", cluster: clusterName)
        }
        guard !oidc.clientId.isEmpty else { throw EKSError.invalidParameter("clientId must not be empty.", cluster: clusterName) }
        for (field, prefix) in [("usernamePrefix", oidc.usernamePrefix), ("groupsPrefix", oidc.groupsPrefix)] {
            if let prefix, prefix.hasPrefix("system:") {
                throw EKSError.invalidParameter("\(field) must not start with system:, which Kubernetes reserves.", cluster: clusterName)
            }
        }
        for (key, value) in oidc.requiredClaims ?? [:] {
            guard (1...63).contains(key.count), (1...253).contains(value.count) else {
                throw EKSError.invalidParameter("Required claim keys must be 1 to 63 characters and values 1 to 253.", cluster: clusterName)
            }
        }
        if let tags = input.tags { try Validation.tags(tags) { EKSError.invalidParameter($0, cluster: clusterName) } }
        let update: Update = try await write { [self] tx in
            let record = try cluster(tx, clusterName)
            let existing = try tx.all(IdentityProviderConfigRecord.self, keyPrefix: clusterName + "/")
            if let same = existing.first(where: { $0.config.identityProviderConfigName == name }) {
                throw EKSError.inUse("Identity provider config \(same.config.identityProviderConfigName) already exists.", cluster: clusterName)
            }
            if let other = existing.first {
                throw EKSError.invalidRequest(
                    "Cluster \(clusterName) already has identity provider config \(other.config.identityProviderConfigName); a cluster can have one.",
                    cluster: clusterName)
            }
            let config = OidcIdentityProviderConfig(
                identityProviderConfigName: name,
                identityProviderConfigArn: "arn:aws:eks:\(region.name):\(region.account):identityproviderconfig/\(clusterName)/oidc/\(name)/\(UUID().uuidString.lowercased())",
                clusterName: clusterName, issuerUrl: oidc.issuerUrl, clientId: oidc.clientId,
                usernameClaim: oidc.usernameClaim, usernamePrefix: oidc.usernamePrefix, groupsClaim: oidc.groupsClaim,
                groupsPrefix: oidc.groupsPrefix, requiredClaims: oidc.requiredClaims, tags: input.tags, status: .CREATING)
            let update = try startClusterUpdate(tx, record, type: .AssociateIdentityProviderConfig,
                                                params: [UpdateParam("IdentityProviderConfig", try Self.json([IdentityProviderConfig(type: "oidc", name: name)]))],
                                                change: .identityProvider(name: name, associate: true))
            try tx.insert(IdentityProviderConfigRecord(config: config, clientRequestToken: input.clientRequestToken))
            return update
        }
        transitionScheduled()
        return (update, input.tags)
    }

    public func describeIdentityProviderConfig(clusterName: String, _ config: IdentityProviderConfig) async throws -> OidcIdentityProviderConfig {
        try await read { [self] reader in try identityProviderConfig(reader, clusterName, config).config }
    }

    public func listIdentityProviderConfigs(clusterName: String, maxResults: Int?, nextToken: String?) async throws -> ListPage<IdentityProviderConfig> {
        let configs: [IdentityProviderConfig] = try await read { reader in
            guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
            return try reader.all(IdentityProviderConfigRecord.self, keyPrefix: clusterName + "/")
                .map { IdentityProviderConfig(type: "oidc", name: $0.config.identityProviderConfigName) }
                .sorted { $0.name < $1.name }
        }
        return try Paging.page(configs, key: \.name, maxResults: maxResults, nextToken: nextToken)
    }

    public func disassociateIdentityProviderConfig(clusterName: String, _ config: IdentityProviderConfig) async throws -> Update {
        let update: Update = try await write { [self] tx in
            var record = try identityProviderConfig(tx.reader, clusterName, config)
            guard record.config.status == .ACTIVE else {
                throw EKSError.inUse("Identity provider config \(config.name) is \(record.config.status.rawValue); it can be disassociated once ACTIVE.",
                                     cluster: clusterName)
            }
            let update = try startClusterUpdate(tx, try cluster(tx, clusterName), type: .DisassociateIdentityProviderConfig,
                                                params: [UpdateParam("IdentityProviderConfig", try Self.json([config]))],
                                                change: .identityProvider(name: config.name, associate: false))
            record.config.status = .DELETING
            try tx.save(record)
            return update
        }
        transitionScheduled()
        return update
    }

    private func identityProviderConfig(_ reader: RecordReader, _ clusterName: String, _ config: IdentityProviderConfig) throws -> IdentityProviderConfigRecord {
        guard try reader.get(ClusterRecord.self, clusterName) != nil else { throw EKSError.clusterNotFound(clusterName) }
        guard config.type == "oidc" else {
            throw EKSError.invalidParameter("Identity provider config type \(config.type) is not supported; the type is oidc.", cluster: clusterName)
        }
        guard let record = try reader.get(IdentityProviderConfigRecord.self, IdentityProviderConfigRecord.key(cluster: clusterName, name: config.name)) else {
            throw EKSError.notFound("Identity provider config \(config.name) not found.", cluster: clusterName)
        }
        return record
    }

    /// The ACTIVE OIDC providers, as the cluster's authenticator reads them.
    func oidcProviders(_ reader: RecordReader, clusterName: String) throws -> [OIDCIssuer] {
        try reader.all(IdentityProviderConfigRecord.self, keyPrefix: clusterName + "/").map(\.config).filter { $0.status == .ACTIVE }.map {
            OIDCIssuer(issuerURL: $0.issuerUrl, clientID: $0.clientId, usernameClaim: $0.usernameClaim ?? "sub",
                                       usernamePrefix: $0.usernamePrefix, groupsClaim: $0.groupsClaim, groupsPrefix: $0.groupsPrefix ?? "",
                                       requiredClaims: $0.requiredClaims ?? [:])
        }
    }
}
