import Synchronization
import KubeAPI
import KubeClient
import KubeModel

/// A ClusterRole with an `aggregationRule` holds the rules of every ClusterRole its selectors select, as
/// kube-controller-manager's clusterrole-aggregation controller keeps them (`admin`, `edit` and `view` grow
/// with the labelled roles a CRD's operator adds).
public final class ClusterRoleAggregationController: Controller {
    let client: KubeClient
    private let roles = Mutex<Informer?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "clusterrole-aggregation" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let roles = try await shared.informer("clusterroles", group: "rbac.authorization.k8s.io")
        self.roles.withLock { $0 = roles }
        roles.addHandler { _ in
            // Any role may be selected by any aggregation: look at every aggregated role again.
            for role in roles.list() where role["aggregationRule"] != nil {
                queue.add(ObjectKey(namespace: nil, name: role.name))
            }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let roles = self.roles.withLock({ $0 }), let role = roles.get(key),
              let selectors = role[path: ["aggregationRule", "clusterRoleSelectors"]]?.array else { return .done }
        var rules: [JSON] = []
        for selector in selectors {
            let matching = roles.list(selector: try LabelSelector(object: selector)).filter { $0.name != role.name }
            for source in matching.sorted(by: { $0.name < $1.name }) {
                for rule in source["rules"]?.array ?? [] where !rules.contains(rule) { rules.append(rule) }
            }
        }
        guard (role["rules"]?.array ?? []) != rules else { return .done }
        var updated = role
        updated["rules"] = .array(rules)
        do {
            _ = try await client.update(try client.resource("clusterroles", group: "rbac.authorization.k8s.io"), updated)
        } catch let error as APIError where error.isNotFound {
            // Deleted meanwhile.
        }
        return .done
    }
}
