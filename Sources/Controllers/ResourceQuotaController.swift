import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// Keeps each ResourceQuota's `status` (`hard`, and what the namespace `used`) true to what exists, as
/// kube-controller-manager's resourcequota controller does: quota admission adds what it admits, this
/// controller counts again when quotas change and when counted objects change or go.
public final class ResourceQuotaController: Controller {
    let client: KubeClient
    private let quotas = Mutex<Informer?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "resourcequota" }

    /// The core kinds quotas commonly count; `count/…` of other kinds is recounted when their quota changes.
    static let counted = ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers"]

    public func watch(_ informers: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let quotas = try await informers.informer("resourcequotas")
        self.quotas.withLock { $0 = quotas }
        quotas.addHandler { event in
            if case .change(let change) = event, change.kind == .deleted { return }
            queue.add(event.key)
        }
        for plural in Self.counted {
            try await informers.informer(plural).addHandler { event in
                guard case .change(let change) = event, let namespace = change.key.namespace else { return }
                // What counts changes when an object comes, goes, or (a pod) finishes; recount that namespace's quotas.
                for quota in quotas.objects.keys(namespace: namespace) { queue.add(quota) }
            }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let quota = quotas.withLock({ $0 })?.get(key), let namespace = key.namespace, quota.deletionTimestamp == nil else { return .done }
        let hard = quota[path: ["spec", "hard"]]?.object ?? [:]
        let tracked = Array(hard.keys)
        var used: [String: Quantity] = [:]
        for type in client.storedResources where Registry.countsTowardQuota(type, tracked: tracked) {
            let objects = try await client.list(type, namespace: namespace)
            used.merge(Registry.quotaTotal(objects, type: type, tracked: tracked)) { $0 + $1 }
        }
        var usage: [String: JSON] = [:]
        for name in tracked { usage[name] = .string((used[name] ?? Quantity(value: 0)).formatted(for: name)) }
        let status: JSON = ["hard": .object(hard), "used": .object(usage)]
        guard quota["status"] != status else { return .done }
        var updated = quota
        updated["status"] = status
        do {
            _ = try await client.updateStatus(try client.resource("resourcequotas"), updated)
        } catch let error as APIError where error.isNotFound {}
        return .done
    }
}
