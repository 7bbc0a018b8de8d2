import Foundation
import KubeModel
import Logging

/// A level-triggered controller: what it watches feeds keys into its queue, and `reconcile(key)` reads
/// the world as it is now and takes one idempotent step toward what should be. A thrown error requeues
/// the key with back-off; nothing is remembered between calls, so restarting anywhere is safe.
public protocol Controller: Sendable {
    associatedtype Key: Hashable & Sendable = ObjectKey
    /// As kube-controller-manager names it (`garbagecollector`, `namespace`, `resourcequota`).
    var name: String { get }
    /// How many keys it reconciles at once.
    var workers: Int { get }
    /// Registers its informer handlers; each maps a change to keys for `queue`.
    func watch(_ informers: SharedInformers, queue: WorkQueue<Key>) async throws
    func reconcile(_ key: Key) async throws -> Reconciled
}

public enum Reconciled: Sendable, Equatable {
    case done
    /// Look again later even if nothing changes (a deadline, a wait for another component).
    case requeue(after: Duration)
}

extension Controller {
    public var workers: Int { 2 }

    /// Registers the controller's handlers and returns its loop, ready to run.
    public func loop(_ informers: SharedInformers, logger: Logger) async throws -> any ControllerRunning {
        let loop = ControllerLoop(controller: self, logger: logger)
        try await watch(informers, queue: loop.queue)
        return loop
    }
}

/// A controller's loop, started once the informers it watches have synced.
public protocol ControllerRunning: Sendable {
    func run() async
}

/// Runs one controller: its queue, its delay pump and its workers, until cancelled.
struct ControllerLoop<C: Controller>: ControllerRunning {
    let controller: C
    let queue = WorkQueue<C.Key>()
    let logger: Logger

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.runDelays() }
            for _ in 0..<max(1, controller.workers) {
                group.addTask { await work() }
            }
            await withTaskCancellationHandler {
                await group.waitForAll()
            } onCancel: {
                queue.shutDown()
            }
        }
    }

    private func work() async {
        while let key = await queue.next() {
            do {
                switch try await controller.reconcile(key) {
                case .done:
                    queue.forget(key)
                case .requeue(let delay):
                    queue.forget(key)
                    queue.add(key, after: delay)
                }
            } catch {
                if queue.failures(key) >= 3 {
                    logger.debug("\(controller.name) failed to reconcile \(key)", metadata: ["error": "\(error)"])
                }
                queue.addRateLimited(key)
            }
            queue.done(key)
        }
    }
}
