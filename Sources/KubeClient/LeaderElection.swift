import Foundation
import KubeAPI
import KubeModel
import Logging

/// How a Lease is held: kube-controller-manager's and kube-scheduler's defaults, or, where one process is the only
/// candidate there can be (Skiff on SQLite), renewals five times rarer, so that a thousand idle clusters do not
/// spend a core renewing leases nobody contests.
public struct LeaseTiming: Sendable, Equatable {
    public var leaseDuration: Duration
    public var renewDeadline: Duration
    public var retryPeriod: Duration

    public static let kube = LeaseTiming(leaseDuration: .seconds(15), renewDeadline: .seconds(10), retryPeriod: .seconds(2))
    public static let soleCandidate = LeaseTiming(leaseDuration: .seconds(40), renewDeadline: .seconds(30), retryPeriod: .seconds(10))
}

/// Leader election on a coordination.k8s.io Lease, as kube-controller-manager and kube-scheduler
/// elect theirs: the holder renews the lease every `retryPeriod`; another candidate takes it over once
/// `leaseDuration` has passed without a renewal. Only the leader runs the work, so several API replicas
/// can share one store with one active controller manager.
public struct LeaderElector: Sendable {
    public let client: KubeClient
    public let namespace: String
    public let name: String
    /// Who is asking, unique per replica (kube uses `hostname_uuid`).
    public let identity: String
    public var leaseDuration: Duration = .seconds(15)
    public var renewDeadline: Duration = .seconds(10)
    /// Where taking and losing the lease is told, as client-go's leader election logs it.
    public var logger: Logger?
    public var retryPeriod: Duration = .seconds(2)

    public init(client: KubeClient, namespace: String = "kube-system", name: String, identity: String, timing: LeaseTiming = .kube) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.identity = identity
        leaseDuration = timing.leaseDuration
        renewDeadline = timing.renewDeadline
        retryPeriod = timing.retryPeriod
    }

    /// Runs `work` whenever this candidate leads, until cancelled. Losing the lease cancels `work`;
    /// the candidate then tries to lead again.
    public func run(_ work: @escaping @Sendable () async -> Void) async {
        let lease = "\(namespace)/\(name)"
        logger?.info("attempting to acquire leader lease \(lease)...")
        while !Task.isCancelled {
            guard (try? await tryAcquireOrRenew()) == true else {
                try? await Task.sleep(for: retryPeriod)
                continue
            }
            logger?.info("successfully acquired lease \(lease)")
            defer { if !Task.isCancelled { logger?.error("failed to renew lease \(lease): timed out waiting for the condition") } }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await work() }
                group.addTask { await renewWhileLeading() }
                // Whichever ends first (the work stops, or the lease is lost) ends both.
                await group.next()
                group.cancelAll()
            }
        }
        _ = try? await release()
    }

    private func renewWhileLeading() async {
        var lastRenewal = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: retryPeriod)
            if Task.isCancelled { return }
            if (try? await tryAcquireOrRenew()) == true {
                lastRenewal = .now
            } else if ContinuousClock.now - lastRenewal > renewDeadline {
                return
            }
        }
    }

    /// One attempt: takes the lease if it is free, expired or ours, and renews it. True if we hold it after.
    public func tryAcquireOrRenew(now: Date = Date()) async throws -> Bool {
        let leases = try client.resource("leases", group: "coordination.k8s.io")
        let seconds = Int64(leaseDuration.components.seconds)
        let stamp = JSON.string(Timestamps.formatMicro(now))
        let current: JSON
        do {
            current = try await client.get(leases, ObjectKey(namespace: namespace, name: name))
        } catch let error as APIError where error.isNotFound {
            let lease: JSON = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                               "metadata": ["name": .string(name), "namespace": .string(namespace)],
                               "spec": ["holderIdentity": .string(identity), "leaseDurationSeconds": .int(seconds),
                                        "acquireTime": stamp, "renewTime": stamp, "leaseTransitions": 0]]
            do {
                _ = try await client.create(leases, lease)
                return true
            } catch let error as APIError where error.isAlreadyExists {
                return false
            }
        }
        let spec = current["spec"] ?? [:]
        let holder = spec["holderIdentity"]?.string ?? ""
        if holder != identity, !holder.isEmpty {
            let renewed = spec["renewTime"]?.string.flatMap(Timestamps.parseMicro) ?? .distantPast
            let duration = TimeInterval(spec["leaseDurationSeconds"]?.int ?? seconds)
            if now.timeIntervalSince(renewed) < duration { return false }
        }
        var updated = current
        updated[path: ["spec", "holderIdentity"]] = .string(identity)
        updated[path: ["spec", "leaseDurationSeconds"]] = .int(seconds)
        updated[path: ["spec", "renewTime"]] = stamp
        if holder != identity {
            updated[path: ["spec", "acquireTime"]] = stamp
            updated[path: ["spec", "leaseTransitions"]] = .int((spec["leaseTransitions"]?.int ?? 0) + (holder.isEmpty ? 0 : 1))
        }
        do {
            // The resourceVersion read above makes this a compare-and-swap: of two candidates, one wins.
            _ = try await client.update(leases, updated)
            return true
        } catch let error as APIError where error.isConflict {
            return false
        }
    }

    /// Gives the lease up (on a clean stop), so another candidate need not wait for it to expire.
    func release() async throws {
        let leases = try client.resource("leases", group: "coordination.k8s.io")
        var current = try await client.get(leases, ObjectKey(namespace: namespace, name: name))
        guard current[path: ["spec", "holderIdentity"]]?.string == identity else { return }
        current[path: ["spec", "holderIdentity"]] = nil
        current[path: ["spec", "acquireTime"]] = nil
        current[path: ["spec", "renewTime"]] = nil
        current[path: ["spec", "leaseDurationSeconds"]] = 1
        _ = try await client.update(leases, current)
    }
}
