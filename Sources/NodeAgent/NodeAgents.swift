import Wakeup
import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Logging
import ServiceLifecycle
import Synchronization

/// The simulated kubelets of a cluster's nodes (no processes run): each registers its Node, renews its
/// Lease in `kube-node-lease` every 10 seconds, keeps its conditions, and moves the pods bound to it
/// through their lives as a kubelet reports them — ContainerCreating, Running with an address from the
/// node's pool, and for pods that run to completion, Succeeded or Failed. Each writes as its own node
/// (`system:node:NAME`); they share one pod informer, as every kubelet may read every pod.
public final class NodeAgents: Service, Sendable {
    let server: APIServer
    let logger: Logger
    private let nodes = Mutex<[String: SimulatedNode]>([:])
    /// Nodes added one at a time beside the node groups' (Fargate's, one per pod).
    private let added = Mutex<[String: SimulatedNode]>([:])
    /// Each node's Lease as last written: renewed without reading it again, as the kubelet renews it.
    private let leases = Mutex<[String: JSON]>([:])
    /// The pod queue of the running agents, to requeue the pods of a node whose pool changed.
    private let queue = WorkQueue<ObjectKey>()
    /// Wakes the registration loop when the set of nodes changes.
    private let changes = WakeupSignal()
    public static let leaseInterval: Duration = .seconds(10)
    public static let leaseDurationSeconds: Int64 = 40
    /// This replica's name in the election of the one that runs the agents; nil runs them without one.
    let identity: String?

    /// - Parameter identity: with several replicas of the control plane on one store, only the holder of the
    ///   `kube-system/skiff-node-agents` Lease runs the agents (nodes have one kubelet each), as the controller
    ///   manager and the scheduler elect theirs.
    let leaseTiming: LeaseTiming

    public init(server: APIServer, nodes: [SimulatedNode], identity: String? = nil, logger: Logger, leaseTiming: LeaseTiming = .kube) {
        self.leaseTiming = leaseTiming
        self.server = server
        self.identity = identity
        self.logger = logger
        self.nodes.withLock { table in for node in nodes { table[node.name] = node } }
    }

    /// The nodes that should exist now; new ones register, gone ones are removed (as the cloud node
    /// controller removes the Node of a terminated instance).
    public func update(_ desired: [SimulatedNode]) {
        nodes.withLock { table in
            table = Dictionary(uniqueKeysWithValues: desired.map { ($0.name, $0) })
        }
        changes.signal()
    }

    /// Adds a node of its own (not a node group's); it registers like the others.
    public func add(_ node: SimulatedNode) {
        added.withLock { $0[node.name] = node }
        changes.signal()
    }

    /// Removes a node `add` added; its Node goes.
    public func remove(nodeNamed name: String) {
        _ = added.withLock { $0.removeValue(forKey: name) }
        changes.signal()
    }

    var current: [SimulatedNode] { nodes.withLock { Array($0.values) } + added.withLock { Array($0.values) } }

    func node(_ name: String) -> SimulatedNode? { nodes.withLock { $0[name] } ?? added.withLock { $0[name] } }

    func client(for node: SimulatedNode) -> KubeClient {
        KubeClient(server: server, user: node.user, userAgent: "kubelet/\(node.kubeletVersion) (linux/amd64) kubernetes/eks")
    }

    public func run() async throws {
        guard let identity else {
            await cancelWhenGracefulShutdown { await self.runAgents() }
            return
        }
        var candidate = LeaderElector(client: KubeClient(server: server, user: Self.electionUser, userAgent: "skiff-node-agents"),
                                      name: "skiff-node-agents", identity: identity, timing: leaseTiming)
        candidate.logger = logger
        let elector = candidate
        await cancelWhenGracefulShutdown { await elector.run { await self.runAgents() } }
    }

    /// Who takes part in the agents' election: a part of the control plane, not a node.
    static let electionUser = UserInfo(name: "system:skiff:node-agents", groups: ["system:masters", "system:authenticated"])

    public func runAgents() async {
        // Kubelets may list and watch every pod; the agents share one informer under a node's identity.
        let reader = KubeClient(server: server, user: UserInfo(name: "system:node:agents", groups: ["system:nodes", "system:authenticated"]),
                                userAgent: "kubelet")
        let informers = SharedInformers(client: reader)
        guard let pods = try? await informers.informer("pods") else { return }
        let addresses = AddressPools()
        pods.addHandler { [weak self] event in
            guard let self else { return }
            let object: JSON? = switch event {
            case .sync(let key): pods.get(key)
            case .change(let change): change.object
            }
            guard let object, let nodeName = Pod(object).nodeName, self.node(nodeName) != nil else { return }
            if case .change(let change) = event, change.kind == .deleted {
                addresses.release(Pod(object))
                // An address came free: pods of the node still waiting for one try again now.
                for waiting in pods.objects.list(field: "spec.nodeName", value: nodeName) where Pod(waiting).phase == "Pending" {
                    self.queue.add(waiting.objectKey)
                }
                return
            }
            self.queue.add(object.objectKey)
        }
        informers.start()
        await informers.waitForSync()
        // Addresses pods already hold (after a restart) are not handed out again.
        for object in pods.list() { addresses.claim(Pod(object)) }
        let sync = PodSync(agents: self, pods: pods, addresses: addresses)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.register() }
            group.addTask { await self.queue.runDelays() }
            for _ in 0..<8 {
                group.addTask {
                    while let key = await self.queue.next() {
                        do {
                            if let delay = try await sync.sync(key) { self.queue.add(key, after: delay) }
                            self.queue.forget(key)
                        } catch {
                            self.queue.addRateLimited(key)
                        }
                        self.queue.done(key)
                    }
                }
            }
            await withTaskCancellationHandler {
                await group.next()
            } onCancel: {
                self.queue.shutDown()
            }
            group.cancelAll()
        }
        await informers.stop()
    }

    // MARK: Nodes and leases

    /// Registers every node, renews every lease on time, and follows changes to the set of nodes.
    func register() async {
        var registered: Set<String> = []
        var nextRenewal = ContinuousClock.now
        while !Task.isCancelled {
            let desired = current
            let wanted = Set(desired.map(\.name))
            for name in registered.subtracting(wanted) {
                await deregister(name)
                registered.remove(name)
            }
            let fresh = desired.filter { !registered.contains($0.name) }
            await forEach(fresh) { node in
                if await self.registerNode(node) { return node.name }
                return nil
            }.forEach { registered.insert($0) }
            if ContinuousClock.now >= nextRenewal {
                _ = await forEach(desired.filter { registered.contains($0.name) }) { node in
                    await self.renewLease(node)
                    return nil as String?
                }
                nextRenewal = ContinuousClock.now + Self.leaseInterval
            }
            // Until the next renewal, or sooner if the nodes change (or one failed to register).
            let wait = registered.count == wanted.count ? nextRenewal : min(nextRenewal, ContinuousClock.now + .seconds(1))
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(until: wait) }
                group.addTask { await self.changes.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Runs `body` for each node, a bounded number at once; returns the non-nil results.
    public func forEach<T: Sendable>(_ nodes: [SimulatedNode], _ body: @escaping @Sendable (SimulatedNode) async -> T?) async -> [T] {
        await withTaskGroup(of: T?.self) { group in
            var results: [T] = []
            var started = 0
            for node in nodes {
                if started >= 64, let result = await group.next() { if let result { results.append(result) } }
                group.addTask { await body(node) }
                started += 1
            }
            for await result in group { if let result { results.append(result) } }
            return results
        }
    }

    static func conditions(now: Date) -> [JSON] {
        let stamp = JSON.string(Timestamps.format(now))
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSON {
            ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
             "lastHeartbeatTime": stamp, "lastTransitionTime": stamp]
        }
        return [condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status")]
    }

    /// Creates the Node, or brings an existing one (after a restart, or a node group change) up to date.
    public func registerNode(_ node: SimulatedNode) async -> Bool {
        let client = client(for: node)
        guard let nodes = try? client.resource("nodes") else { return false }
        let object = node.nodeObject(conditions: Self.conditions(now: Date()))
        do {
            _ = try await client.create(nodes, object)
        } catch let error as APIError where error.isAlreadyExists {
            do {
                var existing = try await client.get(nodes, ObjectKey(namespace: nil, name: node.name))
                var labels = existing[path: ["metadata", "labels"]]?.object ?? [:]
                for (key, value) in node.labels { labels[key] = .string(value) }
                existing[path: ["metadata", "labels"]] = .object(labels)
                existing[path: ["spec", "providerID"]] = object[path: ["spec", "providerID"]]
                existing = try await client.update(nodes, existing)
                existing["status"] = object["status"]
                _ = try await client.updateStatus(nodes, existing)
            } catch {
                return false
            }
        } catch {
            logger.debug("node \(node.name) did not register", metadata: ["error": "\(error)"])
            return false
        }
        await renewLease(node)
        return true
    }

    func renewLease(_ node: SimulatedNode) async {
        let client = client(for: node)
        guard let leases = try? client.resource("leases", group: "coordination.k8s.io") else { return }
        let key = ObjectKey(namespace: "kube-node-lease", name: node.name)
        let now = JSON.string(Timestamps.formatMicro(Date()))
        if var known = self.leases.withLock({ $0[node.name] }) {
            known[path: ["spec", "renewTime"]] = now
            if let written = try? await client.update(leases, known) {
                self.leases.withLock { $0[node.name] = written }
                return
            }
        }
        // First renewal, or someone else wrote it meanwhile: read it, or make it.
        do {
            var lease = try await client.get(leases, key)
            lease[path: ["spec", "renewTime"]] = now
            let written = try await client.update(leases, lease)
            self.leases.withLock { $0[node.name] = written }
        } catch let error as APIError where error.isNotFound {
            guard let nodeObject = try? await client.get(try client.resource("nodes"), ObjectKey(namespace: nil, name: node.name)) else { return }
            var lease: JSON = ["apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                               "metadata": ["name": .string(node.name), "namespace": "kube-node-lease"],
                               "spec": ["holderIdentity": .string(node.name), "leaseDurationSeconds": .int(Self.leaseDurationSeconds),
                                        "renewTime": now]]
            lease.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: node.name, uid: nodeObject.uid ?? "")]
            if let written = try? await client.create(leases, lease) { self.leases.withLock { $0[node.name] = written } }
        } catch {}
    }

    /// The node's instance is gone: its Node goes (its Lease with it, through the garbage collector).
    func deregister(_ name: String) async {
        _ = leases.withLock { $0.removeValue(forKey: name) }
        // The cloud node lifecycle's work, as the node controller's service account (a kubelet may not delete its Node).
        let client = KubeClient(server: server, user: UserInfo(name: "system:serviceaccount:kube-system:node-controller",
                                                               groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                                                                        "system:authenticated"]),
                                userAgent: "cloud-node-lifecycle")
        guard let nodes = try? client.resource("nodes") else { return }
        _ = try? await client.delete(nodes, ObjectKey(namespace: nil, name: name))
    }
}
