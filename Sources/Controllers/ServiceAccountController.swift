import Synchronization
import KubeAPI
import KubeClient
import KubeModel

/// Every active namespace has a `default` ServiceAccount, as kube-controller-manager's
/// serviceaccount controller makes it.
public final class ServiceAccountController: Controller {
    let client: KubeClient
    private let informers = Mutex<(namespaces: Informer, serviceAccounts: Informer)?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "serviceaccount" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let namespaces = try await shared.informer("namespaces")
        let serviceAccounts = try await shared.informer("serviceaccounts")
        informers.withLock { $0 = (namespaces, serviceAccounts) }
        namespaces.addHandler { event in
            if case .change(let change) = event, change.kind == .deleted { return }
            queue.add(ObjectKey(namespace: nil, name: event.key.name))
        }
        serviceAccounts.addHandler { event in
            // A deleted `default` is made again.
            if case .change(let change) = event, change.kind == .deleted, change.key.name == "default", let namespace = change.key.namespace {
                queue.add(ObjectKey(namespace: nil, name: namespace))
            }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (namespaces, serviceAccounts) = informers.withLock({ $0 }),
              let namespace = namespaces.get(key), namespace.deletionTimestamp == nil else { return .done }
        guard serviceAccounts.get(ObjectKey(namespace: key.name, name: "default")) == nil else { return .done }
        let account: JSON = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": "default", "namespace": .string(key.name)]]
        do {
            _ = try await client.create(try client.resource("serviceaccounts"), account)
        } catch let error as APIError where error.isAlreadyExists || error.code == 403 || error.isNotFound {
            // Made meanwhile, or the namespace began terminating.
        }
        return .done
    }
}
