import Foundation
import Logging
import ServiceLifecycle

/// Drives EKS's timed transitions (CREATING → ACTIVE, DELETING → gone, updates
/// InProgress → Successful): sleeps until the next one is due or a new one is
/// scheduled, then completes what is due. On start it completes whatever was
/// left in flight when Skiff last stopped.
public struct EKSProvisioner: Service {
    /// Runs `work` while this replica leads the region (an etcd election); returns when cancelled.
    public typealias Leadership = @Sendable (_ work: @escaping @Sendable () async -> Void) async -> Void

    private let eks: EKSService
    private let logger: Logger
    /// With replicas sharing the region: the provisioner runs on the leader only, and every replica follows the
    /// clusters (their control planes run here too) every `followInterval`. nil: this process is the region.
    private let replicas: (leadership: Leadership, followInterval: Duration)?

    public init(eks: EKSService, replicas: (leadership: Leadership, followInterval: Duration)? = nil, logger: Logger) {
        self.eks = eks
        self.replicas = replicas
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            guard let replicas else { return await provision() }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await replicas.leadership { await provision() } }
                group.addTask { await follow(every: replicas.followInterval) }
            }
        }
    }

    private func provision() async {
        // A pass looks at every record: it runs when something is due, or when the wait ran out (after a start,
        // for the periodic instance sweep, and for what other replicas scheduled); a wake-up for a transition due
        // later only shortens the wait.
        var force = true
        while !Task.isCancelled {
            // Transitions other replicas schedule do not wake this one: with replicas, it looks at least as often
            // as it follows.
            let wait = min(await advance(force: force), replicas.map { $0.followInterval / .seconds(1) } ?? .infinity)
            force = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try? await Task.sleep(for: .seconds(wait))
                    return true
                }
                group.addTask {
                    await eks.wakeup.wait()
                    return false
                }
                let waitRanOut = await group.next() ?? true
                group.cancelAll()
                return waitRanOut
            }
        }
    }

    /// Starts the control planes of clusters another replica created, and stops those it deleted.
    private func follow(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await eks.followControlPlanes()
            } catch {
                logger.error("following the region's clusters failed; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Completes what is due; returns how long to sleep before the next transition.
    private func advance(force: Bool) async -> TimeInterval {
        if let error = await eks.advanceForProvisioner(force: force) {
            logger.error("completing EKS transitions failed; retrying", metadata: ["error": "\(error)"])
        }
        return eks.transitions.nextDue.map { max(0, $0.timeIntervalSinceNow) } ?? 3600
    }
}
