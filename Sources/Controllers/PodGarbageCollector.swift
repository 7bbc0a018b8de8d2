import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// Deletes pods bound to nodes that no longer exist, as kube-controller-manager's podgc controller
/// does for the pods of a node whose instance was terminated.
public final class PodGarbageCollector: Controller {
    let client: KubeClient
    private let informers = Mutex<(pods: Informer, nodes: Informer)?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "pod-garbage-collector" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let pods = try await shared.informer("pods")
        let nodes = try await shared.informer("nodes")
        informers.withLock { $0 = (pods, nodes) }
        nodes.addHandler { event in
            guard case .change(let change) = event, change.kind == .deleted else { return }
            for pod in pods.objects.list(field: "spec.nodeName", value: change.key.name) { queue.add(pod.objectKey) }
        }
        pods.addHandler { event in
            // Only a pod bound to a node the cache does not know is worth a look.
            guard let object = pods.current(event), let node = Pod(object).nodeName, !nodes.objects.contains(ObjectKey(namespace: nil, name: node)) else { return }
            queue.add(event.key)
        }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (pods, nodes) = informers.withLock({ $0 }), let pod = pods.get(key), let nodeName = Pod(pod).nodeName,
              !nodes.objects.contains(ObjectKey(namespace: nil, name: nodeName)) else { return .done }
        // The cache may not show a node that was just created: ask the API before deleting.
        do {
            _ = try await client.get(try client.resource("nodes"), ObjectKey(namespace: nil, name: nodeName))
            return .done
        } catch let error as APIError where error.isNotFound {}
        do {
            try await client.delete(try client.resource("pods"), key, preconditionUID: pod.uid, gracePeriodSeconds: 0)
        } catch let error as APIError where error.isNotFound || error.isConflict {}
        return .done
    }
}
