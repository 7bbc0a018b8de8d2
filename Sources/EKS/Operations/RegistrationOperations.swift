import Foundation
import RegionStore

/// Clusters registered through EKS Connector, and EKS Anywhere subscriptions: resources with lifecycles and no
/// control plane here. A registered cluster stays PENDING (no connector agent connects to Skiff); its name is
/// taken among the region's clusters all the same.
extension EKSService {
    static let activationLifetime: TimeInterval = 3 * 24 * 3600

    public func registerCluster(_ input: RegisterClusterRequest) async throws -> ConnectedCluster {
        let name = input.name
        try Validation.name(name, field: "Cluster name", maxLength: 100)
        try Validation.roleArn(input.connectorConfig.roleArn, field: "connectorConfig.roleArn")
        if let tags = input.tags { try Validation.tags(tags) { EKSError.invalidParameter($0, cluster: name) } }
        let cluster: ConnectedCluster = try await write { [self] tx in
            if let existing = try tx.get(RegisteredClusterRecord.self, name) {
                if let token = input.clientRequestToken, existing.cluster.clientRequestToken == token { return existing.cluster }
                throw EKSError.inUse("Cluster already exists with name: \(name)", cluster: name)
            }
            guard try tx.get(ClusterRecord.self, name) == nil else {
                throw EKSError.inUse("Cluster already exists with name: \(name)", cluster: name)
            }
            let now = Date()
            let code = String((0..<20).map { _ in Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/").randomElement()! })
            let cluster = ConnectedCluster(
                name: name, arn: clusterArn(name), createdAt: now, status: .PENDING,
                connectorConfig: ConnectorConfigResponse(activationId: UUID().uuidString.lowercased(), activationCode: code,
                                                         activationExpiry: now.addingTimeInterval(Self.activationLifetime),
                                                         provider: input.connectorConfig.provider.rawValue,
                                                         roleArn: input.connectorConfig.roleArn),
                clientRequestToken: input.clientRequestToken, tags: input.tags ?? [:], health: ClusterHealth(issues: []))
            try tx.insert(RegisteredClusterRecord(cluster: cluster, dueAt: nil))
            return cluster
        }
        return cluster
    }

    public func deregisterCluster(name: String) async throws -> ConnectedCluster {
        let cluster: ConnectedCluster = try await write { [self] tx in
            guard var record = try tx.get(RegisteredClusterRecord.self, name) else {
                if try tx.get(ClusterRecord.self, name) != nil {
                    throw EKSError.invalidRequest("Cluster \(name) was not registered; delete it with DeleteCluster.", cluster: name)
                }
                throw EKSError.clusterNotFound(name)
            }
            guard record.cluster.status != .DELETING else {
                throw EKSError.inUse("Cluster \(name) is already being deregistered.", cluster: name)
            }
            record.cluster.status = .DELETING
            record.dueAt = dueTime()
            try tx.save(record)
            return record.cluster
        }
        transitionScheduled()
        return cluster
    }

    /// An EKS cluster or a registered one, by name.
    public func describeAnyCluster(name: String) async throws -> DescribedCluster {
        try await read { reader in
            if let record = try reader.get(ClusterRecord.self, name) { return .eks(record.view) }
            if let record = try reader.get(RegisteredClusterRecord.self, name) { return .connected(record.cluster) }
            throw EKSError.clusterNotFound(name)
        }
    }

    /// The refusal for an operation on a registered cluster that only clusters EKS runs take.
    func refuseRegistered(_ reader: RecordReader, _ name: String) throws {
        if try reader.get(RegisteredClusterRecord.self, name) != nil {
            throw EKSError.invalidRequest("Cluster \(name) is a registered cluster; this operation applies to clusters EKS runs.", cluster: name)
        }
    }

    // MARK: EKS Anywhere subscriptions

    public func createEksAnywhereSubscription(_ input: CreateEksAnywhereSubscriptionRequest) async throws -> EksAnywhereSubscription {
        try Validation.name(input.name, field: "Subscription name", maxLength: 100)
        guard input.term.unit == "MONTHS", let duration = input.term.duration, [12, 36].contains(duration) else {
            throw EKSError.invalidParameter("term must be 12 or 36 MONTHS.")
        }
        let quantity = input.licenseQuantity ?? 1
        guard (1...100).contains(quantity) else { throw EKSError.invalidParameter("licenseQuantity must be between 1 and 100.") }
        guard (input.licenseType ?? "Cluster") == "Cluster" else { throw EKSError.invalidParameter("licenseType must be Cluster.") }
        if let tags = input.tags { try Validation.tags(tags) { EKSError.invalidParameter($0) } }
        let subscription: EksAnywhereSubscription = try await write { [self] tx in
            if let token = input.clientRequestToken,
               let same = try tx.all(EksAnywhereSubscriptionRecord.self).first(where: { $0.clientRequestToken == token }) {
                return same.subscription
            }
            let now = Date()
            let id = UUID().uuidString.lowercased()
            let licenses = (0..<quantity).map { _ in
                EksAnywhereLicense(id: UUID().uuidString.lowercased(), token: Self.randomHex(64))
            }
            let subscription = EksAnywhereSubscription(
                id: id, arn: "arn:aws:eks:\(region.name):\(region.account):eks-anywhere-subscription/\(id)", createdAt: now,
                effectiveDate: now,
                expirationDate: Calendar(identifier: .gregorian).date(byAdding: .month, value: duration, to: now) ?? now,
                licenseQuantity: quantity, licenseType: "Cluster", term: EksAnywhereSubscriptionTerm(duration: duration, unit: "MONTHS"),
                status: .CREATING, autoRenew: input.autoRenew ?? false,
                licenseArns: licenses.map { "arn:aws:license-manager::\(region.account):license:l-\($0.id.replacingOccurrences(of: "-", with: ""))" },
                licenses: licenses, tags: input.tags ?? [:])
            try tx.insert(EksAnywhereSubscriptionRecord(subscription: subscription, name: input.name,
                                                        clientRequestToken: input.clientRequestToken, dueAt: dueTime(from: now)))
            return subscription
        }
        transitionScheduled()
        return subscription
    }

    public func describeEksAnywhereSubscription(id: String) async throws -> EksAnywhereSubscription {
        try await read { [self] reader in Self.current(try subscription(reader, id).subscription) }
    }

    public func listEksAnywhereSubscriptions(includeStatus: [String]?, maxResults: Int?, nextToken: String?) async throws
        -> ListPage<EksAnywhereSubscription> {
        if let unknown = includeStatus?.first(where: { EksAnywhereSubscriptionStatus(rawValue: $0) == nil }) {
            throw EKSError.invalidParameter("includeStatus \(unknown) is not one of CREATING, ACTIVE, UPDATING, EXPIRING, EXPIRED, DELETING.")
        }
        let subscriptions = try await read { reader in
            try reader.all(EksAnywhereSubscriptionRecord.self).map { Self.current($0.subscription) }
                .filter { includeStatus == nil || includeStatus!.contains($0.status.rawValue) }
                .sorted { $0.id < $1.id }
        }
        return try Paging.page(subscriptions, key: \.id, maxResults: maxResults, nextToken: nextToken)
    }

    public func updateEksAnywhereSubscription(id: String, autoRenew: Bool) async throws -> EksAnywhereSubscription {
        try await write { [self] tx in
            var record = try subscription(tx.reader, id)
            guard [.ACTIVE, .EXPIRING].contains(Self.current(record.subscription).status) else {
                throw EKSError.invalidRequest("Subscription \(id) is \(Self.current(record.subscription).status.rawValue); only an active one can be updated.")
            }
            record.subscription.autoRenew = autoRenew
            try tx.save(record)
            return Self.current(record.subscription)
        }
    }

    public func deleteEksAnywhereSubscription(id: String) async throws -> EksAnywhereSubscription {
        try await write { [self] tx in
            let record = try subscription(tx.reader, id)
            var subscription = Self.current(record.subscription)
            guard [.CREATING, .EXPIRED].contains(subscription.status) else {
                throw EKSError.invalidRequest(
                    "Subscription \(id) is \(subscription.status.rawValue) and cannot be deleted: only expired or inactive subscriptions can; an active one is cancelled through AWS Support within 7 days of its creation.")
            }
            try tx.delete(EksAnywhereSubscriptionRecord.self, id)
            subscription.status = .DELETING
            return subscription
        }
    }

    private func subscription(_ reader: RecordReader, _ id: String) throws -> EksAnywhereSubscriptionRecord {
        guard let record = try reader.get(EksAnywhereSubscriptionRecord.self, id) else {
            throw EKSError.notFound("No EKS Anywhere subscription found for id: \(id).")
        }
        return record
    }

    /// The subscription as of now: past its expiration it is EXPIRED; within 30 days of it, without auto-renewal, EXPIRING.
    static func current(_ subscription: EksAnywhereSubscription, now: Date = Date()) -> EksAnywhereSubscription {
        var subscription = subscription
        guard subscription.status == .ACTIVE else { return subscription }
        if now >= subscription.expirationDate {
            subscription.status = subscription.autoRenew ? .ACTIVE : .EXPIRED
        } else if !subscription.autoRenew, subscription.expirationDate.timeIntervalSince(now) < 30 * 24 * 3600 {
            subscription.status = .EXPIRING
        }
        return subscription
    }
}
