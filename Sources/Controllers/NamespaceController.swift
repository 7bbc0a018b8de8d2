import Synchronization
import Foundation
import KubeAPI
import KubeClient
import KubeModel

/// Empties a namespace that is being deleted, then clears its `kubernetes` finalizer so it goes, as
/// kube-controller-manager's namespace controller does. While objects remain (held by finalizers of
/// their own), the namespace reports why in its conditions and is looked at again.
public final class NamespaceController: Controller {
    let client: KubeClient
    private let namespaces = Mutex<Informer?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "namespace" }

    static let finalizer = "kubernetes"

    public func watch(_ informers: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let informer = try await informers.informer("namespaces")
        namespaces.withLock { $0 = informer }
        informer.addHandler { event in
            switch event {
            case .sync(let key): queue.add(key)
            case .change(let change) where change.kind != .deleted: queue.add(change.key)
            case .change: break
            }
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let namespace = namespaces.withLock({ $0 })?.get(key), namespace.deletionTimestamp != nil else { return .done }
        let finalizers = (namespace[path: ["spec", "finalizers"]]?.array ?? []).compactMap(\.string)
        guard finalizers.contains(Self.finalizer) else { return .done }
        var remaining: [String: Int] = [:]
        var withFinalizers: [String: Int] = [:]
        for resource in client.storedResources where resource.namespaced && resource.verbs.contains("deletecollection") {
            let objects = try await client.list(resource, namespace: key.name)
            guard !objects.isEmpty else { continue }
            if objects.contains(where: { $0.deletionTimestamp == nil }) {
                try await client.deleteCollection(resource, namespace: key.name)
            }
            let left = try await client.list(resource, namespace: key.name)
            guard !left.isEmpty else { continue }
            let name = resource.group.isEmpty ? resource.resource : "\(resource.resource).\(resource.group)"
            remaining[name] = left.count
            for finalizer in left.flatMap(\.finalizers) { withFinalizers[finalizer, default: 0] += 1 }
        }
        let namespaces = try client.resource("namespaces")
        guard remaining.isEmpty else {
            try await reportRemaining(namespace, resources: remaining, finalizers: withFinalizers, namespaces: namespaces)
            return .requeue(after: .seconds(1))
        }
        var finalized = namespace
        finalized[path: ["spec", "finalizers"]] = .array(finalizers.filter { $0 != Self.finalizer }.map(JSON.string))
        do {
            try await client.write(namespaces, key, subresource: "finalize", method: "PUT", body: finalized)
        } catch let error as APIError where error.isNotFound {}
        return .done
    }

    /// The conditions a Terminating namespace shows while content is left (`kubectl describe ns`).
    func reportRemaining(_ namespace: JSON, resources: [String: Int], finalizers: [String: Int], namespaces: ResourceType) async throws {
        var updated = namespace
        let content = resources.sorted { $0.key < $1.key }.map { "\($0.key) has \($0.value) resource instances" }.joined(separator: ", ")
        updated.setCondition(Condition(type: "NamespaceContentRemaining", status: "True", reason: "SomeResourcesRemain",
                                       message: "Some resources are remaining: \(content)"))
        if !finalizers.isEmpty {
            let held = finalizers.sorted { $0.key < $1.key }.map { "\($0.key) in \($0.value) resource instances" }.joined(separator: ", ")
            updated.setCondition(Condition(type: "NamespaceFinalizersRemaining", status: "True", reason: "SomeFinalizersRemain",
                                           message: "Some content in the namespace has finalizers remaining: \(held)"))
        }
        guard updated != namespace else { return }
        do {
            _ = try await client.updateStatus(namespaces, updated)
        } catch let error as APIError where error.isNotFound || error.isConflict {}
    }
}
