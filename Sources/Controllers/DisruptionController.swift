import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// Keeps each PodDisruptionBudget's status (`currentHealthy`, `desiredHealthy`, `disruptionsAllowed`,
/// `expectedPods`, the `DisruptionAllowed` condition) in step with the pods it selects, as
/// kube-controller-manager's disruption controller does, so that `kubectl get pdb` shows what may be evicted.
public final class DisruptionController: Controller {
    let client: KubeClient
    private let informers = Mutex<(budgets: Informer, pods: Informer)?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "disruption" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let budgets = try await shared.informer("poddisruptionbudgets", group: "policy")
        let pods = try await shared.informer("pods")
        informers.withLock { $0 = (budgets, pods) }
        budgets.addHandler { event in queue.add(event.key) }
        pods.addHandler { event in
            queueSelectors(of: event, pods: pods, among: budgets, selector: { try? LabelSelector(object: $0[path: ["spec", "selector"]] ?? [:]) },
                           queue: queue)
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (budgets, pods) = informers.withLock({ $0 }), let budget = budgets.get(key), budget.deletionTimestamp == nil else { return .done }
        let selector = (try? LabelSelector(object: budget[path: ["spec", "selector"]] ?? [:])) ?? LabelSelector(requirements: [])
        let selected = selector.isEmpty ? [] : pods.list(namespace: key.namespace, selector: selector)
        let state = DisruptionBudget(budget, selected: selected)
        var status = budget["status"] ?? [:]
        status["currentHealthy"] = .int(state.healthy)
        status["desiredHealthy"] = .int(state.desired)
        status["expectedPods"] = .int(state.expected)
        status["disruptionsAllowed"] = .int(state.allowed)
        status["observedGeneration"] = budget[path: ["metadata", "generation"]] ?? 1
        // The condition's time moves only when its status does (setCondition keeps it otherwise).
        var conditioned = JSON.object(["status": status])
        let allowed = state.allowed > 0
        conditioned.setCondition(Condition(type: "DisruptionAllowed", status: allowed ? "True" : "False",
                                           reason: allowed ? "SufficientPods" : "InsufficientPods", message: ""))
        status = conditioned["status"] ?? status
        guard status != budget["status"] else { return .done }
        var updated = budget
        updated["status"] = status
        do {
            _ = try await client.updateStatus(try client.resource("poddisruptionbudgets", group: "policy"), updated)
        } catch let error as APIError where error.isNotFound {}
        return .done
    }
}
