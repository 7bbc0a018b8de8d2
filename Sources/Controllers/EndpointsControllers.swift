import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// What a Service with a selector points at: the pods it selects that have an address, each with its
/// readiness, and the service's ports resolved against each pod's container ports (a named `targetPort`
/// names a container port). Shared by the Endpoints and EndpointSlice controllers.
struct ServiceBackends {
    struct Backend {
        let pod: JSON
        let ip: String
        let ready: Bool
        let terminating: Bool
        let nodeName: String?
        /// The resolved ports, in the service's port order.
        let ports: [JSON]
    }

    static func selector(of service: JSON) -> LabelSelector? {
        guard let selector = service[path: ["spec", "selector"]]?.stringMap, !selector.isEmpty else { return nil }
        return LabelSelector(requirements: selector.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) })
    }

    /// The backends of `service` among `pods` (its namespace's pods that its selector selects).
    static func backends(of service: JSON, pods: [JSON]) -> [Backend] {
        let publishNotReady = service[path: ["spec", "publishNotReadyAddresses"]]?.bool ?? false
        let servicePorts = service[path: ["spec", "ports"]]?.array ?? []
        return pods.compactMap { object in
            let pod = Pod(object)
            guard let ip = pod.podIP, !ip.isEmpty, !pod.isTerminal else { return nil }
            let terminating = pod.isBeingDeleted
            if terminating, !publishNotReady { return nil }
            var ports: [JSON] = []
            for port in servicePorts {
                guard let number = resolve(port["targetPort"] ?? port["port"] ?? .null, port: port, in: pod) else { continue }
                var resolved: JSON = ["port": .int(number), "protocol": port["protocol"] ?? "TCP"]
                if let name = port["name"]?.string, !name.isEmpty { resolved["name"] = .string(name) }
                if let appProtocol = port["appProtocol"] { resolved["appProtocol"] = appProtocol }
                ports.append(resolved)
            }
            return Backend(pod: object, ip: ip, ready: (pod.isReady || publishNotReady) && !terminating, terminating: terminating,
                           nodeName: pod.nodeName, ports: ports)
        }
    }

    /// A target port as a number: itself, or the container port of that name.
    static func resolve(_ target: JSON, port: JSON, in pod: Pod) -> Int64? {
        if let number = target.int { return number }
        guard let name = target.string else { return port["port"]?.int }
        if let number = Int64(name) { return number }
        for container in pod.containers {
            for containerPort in container["ports"]?.array ?? [] where containerPort["name"]?.string == name {
                return containerPort["containerPort"]?.int
            }
        }
        return nil
    }

    static func targetRef(_ pod: JSON) -> JSON {
        ["kind": "Pod", "namespace": .string(pod.namespace ?? ""), "name": .string(pod.name), "uid": .string(pod.uid ?? "")]
    }
}

/// Queues each object of `owners` (in the pod's namespace) whose selector selects the pod of `event`, with its
/// labels as they are now or were before: what Services and PodDisruptionBudgets follow their pods by.
func queueSelectors(of event: InformerEvent, pods: Informer, among owners: Informer, selector: (JSON) -> LabelSelector?,
                    queue: WorkQueue<ObjectKey>) {
    guard let namespace = event.key.namespace else { return }
    // Most namespaces have no such owner: nothing is decoded for them.
    let selectors = owners.list(namespace: namespace).compactMap { owner in selector(owner).flatMap { $0.isEmpty ? nil : (owner.objectKey, $0) } }
    guard !selectors.isEmpty else { return }
    let current: [String: String]?
    var previous: [String: String]?? = .none
    switch event {
    case .change(let change): current = change.object.labels
    case .sync(let key): current = pods.get(key)?.labels
    }
    for (key, selector) in selectors {
        if let current, selector.matches(current) {
            queue.add(key)
            continue
        }
        // The labels before the change, decoded once and only when the current ones do not match.
        if previous == nil, case .change(let change) = event { previous = .some(change.previous?.labels) }
        if let labels = previous ?? nil, selector.matches(labels) { queue.add(key) }
    }
}

/// Watches Services, the pods they select, and the objects it keeps for them, queueing the Service of any
/// change (what both endpoints controllers react to).
final class ServiceWatch: Sendable {
    let services: Informer
    let pods: Informer

    init(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        services = try await shared.informer("services")
        pods = try await shared.informer("pods")
        let services = self.services
        services.addHandler { event in queue.add(event.key) }
        let pods = self.pods
        pods.addHandler { event in
            queueSelectors(of: event, pods: pods, among: services, selector: ServiceBackends.selector, queue: queue)
        }
    }

    func selectedPods(_ service: JSON) -> [JSON]? {
        guard let selector = ServiceBackends.selector(of: service) else { return nil }
        return pods.list(namespace: service.namespace, selector: selector)
    }
}

/// Every Service with a selector has an Endpoints object of its name listing its pods' addresses, ready and
/// not ready, as kube-controller-manager's endpoints controller keeps it; it goes with its Service.
public final class EndpointsController: Controller {
    let client: KubeClient
    private let state = Mutex<(watch: ServiceWatch, endpoints: Informer)?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "endpoint" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let watch = try await ServiceWatch(shared, queue: queue)
        let endpoints = try await shared.informer("endpoints")
        endpoints.addHandler { event in queue.add(event.key) }
        state.withLock { $0 = (watch, endpoints) }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (watch, endpoints) = state.withLock({ $0 }) else { return .done }
        let resource = try client.resource("endpoints")
        let existing = endpoints.get(key)
        guard let service = watch.services.get(key), service.deletionTimestamp == nil, let pods = watch.selectedPods(service) else {
            // No Service, or one without a selector (whose Endpoints are its owner's to write): only ours go.
            if let existing, watch.services.get(key) == nil {
                do {
                    try await client.delete(resource, key, preconditionUID: existing.uid)
                } catch let error as APIError where error.isNotFound || error.isConflict {}
            }
            return .done
        }
        let subsets = Self.subsets(ServiceBackends.backends(of: service, pods: pods))
        var labels = service.labels
        labels["endpoints.kubernetes.io/managed-by"] = nil
        if let existing {
            guard existing["subsets"] ?? [] != subsets || existing.labels != labels else { return .done }
            var updated = existing
            updated["subsets"] = subsets
            updated[path: ["metadata", "labels"]] = .object(labels.mapValues(JSON.string))
            _ = try await client.update(resource, updated)
            return .done
        }
        var object: JSON = ["apiVersion": "v1", "kind": "Endpoints",
                            "metadata": ["name": .string(key.name), "namespace": .string(key.namespace ?? "")], "subsets": subsets]
        if !labels.isEmpty { object[path: ["metadata", "labels"]] = .object(labels.mapValues(JSON.string)) }
        do {
            _ = try await client.create(resource, object)
        } catch let error as APIError where error.isAlreadyExists {
            return .requeue(after: .milliseconds(50))
        }
        return .done
    }

    /// Subsets as the endpoints controller packs them: one per distinct set of resolved ports, addresses
    /// and not-ready addresses sorted by IP.
    static func subsets(_ backends: [ServiceBackends.Backend]) -> JSON {
        var groups: [(ports: [JSON], ready: [JSON], notReady: [JSON])] = []
        for backend in backends.sorted(by: { $0.ip < $1.ip }) where !backend.ports.isEmpty {
            var address: JSON = ["ip": .string(backend.ip), "targetRef": ServiceBackends.targetRef(backend.pod)]
            if let node = backend.nodeName { address["nodeName"] = .string(node) }
            let index = groups.firstIndex { $0.ports == backend.ports } ?? {
                groups.append((backend.ports, [], []))
                return groups.count - 1
            }()
            if backend.ready { groups[index].ready.append(address) } else { groups[index].notReady.append(address) }
        }
        return .array(groups.map { group in
            var subset: JSON = ["ports": .array(group.ports)]
            if !group.ready.isEmpty { subset["addresses"] = .array(group.ready) }
            if !group.notReady.isEmpty { subset["notReadyAddresses"] = .array(group.notReady) }
            return subset
        })
    }
}

/// Every Service with a selector has EndpointSlices (at most 100 endpoints each) owned by it, labelled with
/// its name, as kube-controller-manager's endpointslice controller keeps them.
public final class EndpointSliceController: Controller {
    static let managedBy = "endpointslice-controller.k8s.io"
    static let maxEndpoints = 100

    let client: KubeClient
    private let state = Mutex<(watch: ServiceWatch, slices: Informer, nodes: Informer)?>(nil)

    public init(client: KubeClient) {
        self.client = client
    }

    public var name: String { "endpointslice" }

    public func watch(_ shared: SharedInformers, queue: WorkQueue<ObjectKey>) async throws {
        let watch = try await ServiceWatch(shared, queue: queue)
        let slices = try await shared.informer("endpointslices", group: "discovery.k8s.io")
        let nodes = try await shared.informer("nodes")
        slices.addHandler { event in
            // A deleted slice too: its Service gets its slices back.
            let object: JSON? = switch event {
            case .change(let change): change.object
            case .sync(let key): slices.get(key)
            }
            guard let service = object?.labels["kubernetes.io/service-name"] else { return }
            queue.add(ObjectKey(namespace: event.key.namespace, name: service))
        }
        state.withLock { $0 = (watch, slices, nodes) }
    }

    public func reconcile(_ key: ObjectKey) async throws -> Reconciled {
        guard let (watch, slices, nodes) = state.withLock({ $0 }) else { return .done }
        let resource = try client.resource("endpointslices", group: "discovery.k8s.io")
        let ours = slices.list(namespace: key.namespace, selector: LabelSelector(requirements: [
            .equals("kubernetes.io/service-name", key.name), .equals("endpointslice.kubernetes.io/managed-by", Self.managedBy),
        ])).sorted { $0.name < $1.name }
        guard let service = watch.services.get(key), service.deletionTimestamp == nil, let pods = watch.selectedPods(service) else {
            // The garbage collector takes the slices of a deleted Service; a Service that lost its selector keeps none.
            if watch.services.get(key) != nil {
                for slice in ours { try? await client.delete(resource, slice.objectKey, preconditionUID: slice.uid) }
            }
            return .done
        }
        let wanted = Self.slices(ServiceBackends.backends(of: service, pods: pods), zones: { name in
            nodes.get(ObjectKey(namespace: nil, name: name))?.labels["topology.kubernetes.io/zone"]
        })
        var labels = service.labels
        labels["kubernetes.io/service-name"] = key.name
        labels["endpointslice.kubernetes.io/managed-by"] = Self.managedBy
        for (index, content) in wanted.enumerated() {
            if index < ours.count {
                let slice = ours[index]
                guard slice["endpoints"] ?? [] != content.endpoints || slice["ports"] ?? [] != content.ports || slice.labels != labels else { continue }
                var updated = slice
                updated["endpoints"] = content.endpoints
                updated["ports"] = content.ports
                updated[path: ["metadata", "labels"]] = .object(labels.mapValues(JSON.string))
                _ = try await client.update(resource, updated)
            } else {
                var object: JSON = [
                    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                    "metadata": ["generateName": .string(key.name + "-"), "namespace": .string(key.namespace ?? ""),
                                 "labels": .object(labels.mapValues(JSON.string))],
                    "endpoints": content.endpoints, "ports": content.ports,
                ]
                object.ownerReferences = [OwnerReference.controlledBy(service)]
                _ = try await client.create(resource, object)
            }
        }
        for extra in ours.dropFirst(wanted.count) {
            try? await client.delete(resource, extra.objectKey, preconditionUID: extra.uid)
        }
        return .done
    }

    /// The slices' contents: endpoints grouped by their resolved ports, sorted by address, cut into slices of
    /// at most 100; a Service with no backends keeps one empty slice.
    static func slices(_ backends: [ServiceBackends.Backend], zones: (String) -> String?) -> [(endpoints: JSON, ports: JSON)] {
        var groups: [(ports: [JSON], endpoints: [JSON])] = []
        for backend in backends.sorted(by: { $0.ip < $1.ip }) {
            var endpoint: JSON = [
                "addresses": [.string(backend.ip)],
                "conditions": ["ready": .bool(backend.ready), "serving": .bool(backend.ready || (backend.terminating && Pod(backend.pod).isReady)),
                               "terminating": .bool(backend.terminating)],
                "targetRef": ServiceBackends.targetRef(backend.pod),
            ]
            if let node = backend.nodeName {
                endpoint["nodeName"] = .string(node)
                if let zone = zones(node) { endpoint["zone"] = .string(zone) }
            }
            let index = groups.firstIndex { $0.ports == backend.ports } ?? {
                groups.append((backend.ports, []))
                return groups.count - 1
            }()
            groups[index].endpoints.append(endpoint)
        }
        var slices: [(endpoints: JSON, ports: JSON)] = []
        for group in groups {
            for start in stride(from: 0, to: group.endpoints.count, by: maxEndpoints) {
                slices.append((.array(Array(group.endpoints[start..<min(start + maxEndpoints, group.endpoints.count)])), .array(group.ports)))
            }
        }
        return slices.isEmpty ? [(.array([]), .array([]))] : slices
    }
}
