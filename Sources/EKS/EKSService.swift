import Wakeup
import Foundation
import PKI
import RegionStore
import VPC

/// Settings of the regional EKS API.
public struct EKSSettings: Sendable {
    public var region: Region
    /// How long creating, deleting and updating take; EKS takes minutes, Skiff about a second.
    public var provisioningDelay: TimeInterval
    /// Where new clusters' API servers listen.
    public var clusterEndpoints: ClusterEndpoints
    /// Why a KMS key cannot encrypt a cluster's Secrets (it does not exist, or is not enabled); nil when it can.
    public var kmsKeyProblem: @Sendable (_ keyArn: String) async -> String?

    public init(region: Region, provisioningDelay: TimeInterval,
                clusterEndpoints: ClusterEndpoints,
                kmsKeyProblem: @escaping @Sendable (String) async -> String? = { _ in nil }) {
        self.region = region
        self.provisioningDelay = provisioningDelay
        self.clusterEndpoints = clusterEndpoints
        self.kmsKeyProblem = kmsKeyProblem
    }
}

/// How a new cluster's endpoint is chosen: the host it names, and a port of its own from `ports`, which no other
/// cluster of the region holds (a `ClusterPortRecord`) and which is free here now. The default range lies below
/// Linux's ephemeral ports, so that no outgoing connection holds a cluster's port when its API server starts.
public struct ClusterEndpoints: Sendable {
    public var host: String
    public var ports: ClosedRange<Int>
    public var isFree: @Sendable (Int) -> Bool

    public init(host: String, ports: ClosedRange<Int> = 20_000...32_767, isFree: @escaping @Sendable (Int) -> Bool = { _ in true }) {
        self.host = host
        self.ports = ports
        self.isFree = isFree
    }
}

/// The regional EKS API: clusters, node groups, updates and tags.
///
/// Each operation is one function named after the EKS operation; each runs
/// its checks and writes in one database transaction, so a refused request
/// changes nothing. Transitions that take time are recorded with the time
/// they are due, and `advanceDueTransitions` (driven by `EKSProvisioner`)
/// completes them, also after a restart.
public final class EKSService: Sendable {
    let database: RegionDatabase
    let network: RegionNetwork
    let settings: EKSSettings
    let controlPlanes: any ControlPlaneHost
    /// Wakes the provisioner when a new transition is scheduled.
    let wakeup = WakeupSignal()
    let transitions = TransitionSchedule()

    public init(database: RegionDatabase, network: RegionNetwork, settings: EKSSettings,
                controlPlanes: any ControlPlaneHost = NoControlPlanes()) {
        self.database = database
        self.network = network
        self.settings = settings
        self.controlPlanes = controlPlanes
    }

    var region: Region { settings.region }

    func dueTime(from now: Date = Date()) -> Date {
        now.addingTimeInterval(settings.provisioningDelay)
    }

    /// Tells the provisioner, and the requests that follow, that a transition was just scheduled `dueTime()` from now.
    func transitionScheduled() {
        transitions.scheduled(at: dueTime())
        wakeup.signal()
    }

    /// Completes the transitions due by now before a request reads or changes what they touch.
    public func settleDueTransitions() async {
        await transitions.settle { [self] in await runDueTransitions() }
    }

    /// One provisioner pass: completes what is due (also what a restart left in flight), with `force` even when
    /// nothing is known to be due; returns its failure, if any.
    func advanceForProvisioner(force: Bool = true) async -> (any Error)? {
        await transitions.settle(force: force) { [self] in await runDueTransitions() }
    }

    private func runDueTransitions() async -> Result<Date?, any Error> {
        do { return .success(try await advanceDueTransitions()) } catch { return .failure(error) }
    }

    func clusterArn(_ name: String) -> String {
        "arn:aws:eks:\(region.name):\(region.account):cluster/\(name)"
    }

    func cluster(_ tx: RecordTransaction, _ name: String) throws -> ClusterRecord {
        guard let record = try tx.get(ClusterRecord.self, name) else {
            try refuseRegistered(tx.reader, name)
            throw EKSError.clusterNotFound(name)
        }
        return record
    }

    func nodegroup(_ tx: RecordTransaction, cluster: String, _ name: String) throws -> NodegroupRecord {
        guard let record = try tx.get(NodegroupRecord.self, NodegroupRecord.key(cluster: cluster, nodegroup: name)) else {
            throw EKSError.nodegroupNotFound(name, cluster: cluster)
        }
        return record
    }

    /// Runs `body` in a write transaction, turning the network layer's errors into EKS's.
    func write<T: Sendable>(_ body: @Sendable @escaping (RecordTransaction) throws -> T) async throws -> T {
        do {
            return try await database.write(body)
        } catch let error as EC2Error {
            throw EKSError.invalidParameter(error.message)
        }
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (RecordReader) throws -> T) async throws -> T {
        try await database.read(body)
    }
}

/// One page of a list operation.
public struct ListPage<Item: Sendable & Encodable>: Sendable {
    public let items: [Item]
    public let nextToken: String?
}

enum Paging {
    /// `items` must be sorted by `key`. EKS list calls take `maxResults` from 1 to 100 (default 100) and an opaque `nextToken`.
    static func page<Item>(_ items: [Item], key: (Item) -> String, maxResults: Int?, nextToken: String?,
                           limit: Int = 100) throws(EKSError) -> ListPage<Item> {
        let size = maxResults ?? limit
        guard (1...limit).contains(size) else {
            throw EKSError.invalidParameter("maxResults must be between 1 and \(limit).")
        }
        var start = 0
        if let nextToken {
            guard let decoded = Data(base64Encoded: nextToken).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw EKSError.invalidParameter("The nextToken provided is invalid.")
            }
            // Tokens name the next key, not a position, so deletions between pages skip nothing.
            start = items.firstIndex { key($0) >= decoded } ?? items.count
        }
        let end = min(items.count, start + size)
        let next = end < items.count ? Data(key(items[end]).utf8).base64EncodedString() : nil
        return ListPage(items: Array(items[start..<end]), nextToken: next)
    }
}
