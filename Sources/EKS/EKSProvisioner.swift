import Foundation
import Logging
import ServiceLifecycle

/// Drives EKS's timed transitions (CREATING → ACTIVE, DELETING → gone, updates
/// InProgress → Successful): sleeps until the next one is due or a new one is
/// scheduled, then completes what is due. On start it completes whatever was
/// left in flight when Skiff last stopped.
public struct EKSProvisioner: Service {
    private let eks: EKSService
    private let logger: Logger
    /// With replicas sharing the region, how often this one looks again even when nothing here is due: another
    /// replica's changes (a cluster created or deleted there) are followed within it. nil: only its own.
    private let followInterval: TimeInterval?

    public init(eks: EKSService, followInterval: TimeInterval? = nil, logger: Logger) {
        self.eks = eks
        self.followInterval = followInterval
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wait = await advance()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await Task.sleep(for: .seconds(wait)) }
                    group.addTask { await eks.wakeup.wait() }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Completes what is due; returns how long to sleep before the next transition.
    private func advance() async -> TimeInterval {
        if let error = await eks.advanceForProvisioner() {
            logger.error("completing EKS transitions failed; retrying", metadata: ["error": "\(error)"])
        }
        let due = eks.transitions.nextDue.map { max(0, $0.timeIntervalSinceNow) } ?? 3600
        return min(due, followInterval ?? due)
    }
}
