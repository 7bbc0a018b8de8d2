import Foundation
import GRPCCore
import Logging

/// One leader among the replicas of a region for work that must run once (the EKS provisioner, etcd's
/// compaction), elected as etcd's own `concurrency` package elects: the leader's key is attached to an etcd lease
/// it keeps alive; when the leader dies the lease expires within `ttl`, the key goes, and another replica takes it.
/// A replica that restarts with the same identity takes its own key back at once.
public struct EtcdLeaderElection: Sendable {
    let client: EtcdClient
    let key: [UInt8]
    let identity: String
    /// Seconds a dead leader's lease outlives it.
    public var ttl: Int64 = 10
    /// How long a follower waits between attempts.
    public var retryPeriod: Duration = .seconds(1)
    public var logger: Logger?

    public init(client: EtcdClient, key: String, identity: String) {
        self.client = client
        self.key = Array(key.utf8)
        self.identity = identity
    }

    /// Runs `work` whenever this replica leads, until cancelled; losing the lease cancels `work`.
    public func run(_ work: @escaping @Sendable () async -> Void) async {
        while !Task.isCancelled {
            guard let lease = try? await grant() else {
                try? await Task.sleep(for: retryPeriod)
                continue
            }
            if (try? await acquire(lease)) == true {
                logger?.notice("leading \(String(decoding: key, as: UTF8.self)) as \(identity)")
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await work() }
                    group.addTask { await keepAlive(lease) }
                    await group.next()
                    group.cancelAll()
                }
                if !Task.isCancelled { logger?.error("lost \(String(decoding: key, as: UTF8.self))") }
            }
            // Revoked either way: a follower's lease is not needed, and a leader's going frees the key at once
            // (in a task of its own, which a shutdown's cancellation does not stop).
            await Task { try? await revoke(lease) }.value
            if !Task.isCancelled { try? await Task.sleep(for: retryPeriod) }
        }
    }

    private func grant() async throws -> Int64 {
        var request = Etcdserverpb_LeaseGrantRequest()
        request.ttl = ttl
        return try await client.lease.leaseGrant(request, options: EtcdClient.unary).id
    }

    private func revoke(_ lease: Int64) async throws {
        var request = Etcdserverpb_LeaseRevokeRequest()
        request.id = lease
        _ = try await client.lease.leaseRevoke(request, options: EtcdClient.unary)
    }

    /// Takes the key if it is free, or held by this identity (an earlier life of this replica).
    private func acquire(_ lease: Int64) async throws -> Bool {
        let key = Data(key)
        let claim = Etcdserverpb_RequestOp.put(key, Data(identity.utf8), lease: lease)
        for condition in [Etcdserverpb_Compare.absent(key), .value(key, is: Data(identity.utf8))] {
            if try await client.kv.txn(.init(if: [condition], then: [claim]), options: EtcdClient.unary).succeeded { return true }
        }
        return false
    }

    /// Renews the lease every third of its life; returns when it cannot (etcd unreachable past the lease, or the
    /// lease gone).
    private func keepAlive(_ lease: Int64) async {
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(Double(ttl) / 3))
            if Task.isCancelled { return }
            var request = Etcdserverpb_LeaseKeepAliveRequest()
            request.id = lease
            let remaining = try? await client.lease.leaseKeepAlive(options: EtcdClient.unary, requestProducer: { [request] writer in
                try await writer.write(request)
            }, onResponse: { response in
                for try await message in response.messages { return message.ttl }
                return Int64(0)
            })
            switch remaining {
            case let ttl? where ttl > 0: lastRenewal = .now
            case .some: return
            case nil: if ContinuousClock.now - lastRenewal > .seconds(ttl) { return }
            }
        }
    }
}
