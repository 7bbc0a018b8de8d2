import Controllers
import Foundation
import KubeAPI
import KubeClient
import KubeModel
import KubeStore
import Logging
import NodeAgent
import Scheduler
import Synchronization

/// `skiff bench workloads`: one cluster's control plane at work, in process, on a fsynced SQLite store:
/// the scheduler's throughput, a 10,000-replica Deployment from create to all Running, controllers'
/// throughput, the write load of node heartbeats, and memory with many nodes and pods.
struct WorkloadBenchmark {
    let directory: URL
    let nodeCounts: [Int]
    let pods: Int
    let memoryNodes: Int
    let memoryPods: Int
    /// At `skiff up`'s default level: the components' info lines (each binding, each scale-up) are not the figures.
    let logger: Logger = {
        var logger = Logger(label: "bench")
        logger.logLevel = .notice
        return logger
    }()

    func run(scenarios: Set<String>) async throws {
        for nodes in nodeCounts {
            if scenarios.contains("scheduling") { try await scheduling(nodes: nodes) }
            if scenarios.contains("deployment") { try await deployment(nodes: nodes) }
        }
        if scenarios.contains("controllers") { try await controllers(deployments: 200, nodes: 100) }
        if scenarios.contains("heartbeats") { try await heartbeats(nodes: memoryNodes, window: .seconds(30)) }
        if scenarios.contains("memory") { try await memory(nodes: memoryNodes, pods: memoryPods) }
    }

    // MARK: Scenarios

    /// Pods waiting for a scheduler, then the scheduler started: how fast it places and binds them.
    func scheduling(nodes: Int) async throws {
        let plane = try await Plane(directory: directory, nodes: nodes, logger: logger)
        try await plane.registerNodes()
        let bound = Counter()
        let informers = try await plane.watchPods { change in
            if change.kind == .updated, Pod(change.object).nodeName != nil, change.previous.flatMap({ Pod($0).nodeName }) == nil { bound.add() }
        }
        try await plane.createPods(pods)
        let cpuBefore = BenchOutput.cpuSeconds()
        let start = ContinuousClock.now
        let scheduler = Task { await Scheduler(server: plane.server, identity: "bench", logger: logger).schedule() }
        await bound.wait(for: pods)
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = BenchOutput.cpuSeconds() - cpuBefore
        scheduler.cancel()
        await scheduler.value
        await informers.stop()
        print(BenchOutput.json([("scenario", "schedule-and-bind"), ("nodes", nodes), ("pods", pods),
                                ("pods_per_sec", Int(Double(pods) / seconds)), ("seconds", (seconds * 100).rounded() / 100),
                                ("cpu_us_per_pod", Int(cpu / Double(pods) * 1e6))]))
        plane.stop()
    }

    /// A 10,000-replica Deployment with every component running: from its create to all pods Running.
    func deployment(nodes: Int) async throws {
        let plane = try await Plane(directory: directory, nodes: nodes, logger: logger)
        let (running, informers) = try await plane.countRunningPods()
        let components = plane.start()
        try await plane.registerNodes()
        let cpuBefore = BenchOutput.cpuSeconds()
        let start = ContinuousClock.now
        _ = try await plane.admin.create(try plane.admin.resource("deployments", group: "apps"), Plane.deployment("big", replicas: pods))
        await running.wait(for: pods)
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = BenchOutput.cpuSeconds() - cpuBefore
        await components.stop()
        await informers.stop()
        print(BenchOutput.json([("scenario", "deployment-to-running"), ("nodes", nodes), ("replicas", pods),
                                ("seconds", (seconds * 100).rounded() / 100), ("pods_per_sec", Int(Double(pods) / seconds)),
                                ("cpu_us_per_pod", Int(cpu / Double(pods) * 1e6))]))
        plane.stop()
    }

    /// Many small Deployments at once: how many reach Available per second.
    func controllers(deployments: Int, nodes: Int) async throws {
        let plane = try await Plane(directory: directory, nodes: nodes, logger: logger)
        let components = plane.start()
        try await plane.registerNodes()
        let resource = try plane.admin.resource("deployments", group: "apps")
        let available = Counter()
        let informers = SharedInformers(client: plane.admin)
        try await informers.informer(resource).addHandler { event in
            guard case .change(let change) = event, change.kind == .updated else { return }
            let now = change.object.condition("Available")?.status == "True" && Workload(change.object).status("availableReplicas") == 1
            let before = change.previous.map { $0.condition("Available")?.status == "True" && Workload($0).status("availableReplicas") == 1 } ?? false
            if now && !before { available.add() }
        }
        informers.start()
        await informers.waitForSync()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<16 {
                group.addTask {
                    for index in stride(from: client, to: deployments, by: 16) {
                        _ = try await plane.admin.create(resource, Plane.deployment("d\(index)", replicas: 1))
                    }
                }
            }
            try await group.waitForAll()
        }
        await available.wait(for: deployments)
        let seconds = (ContinuousClock.now - start).seconds
        await components.stop()
        await informers.stop()
        print(BenchOutput.json([("scenario", "deployments-to-available"), ("nodes", nodes), ("deployments", deployments),
                                ("deployments_per_sec", Int(Double(deployments) / seconds)), ("seconds", (seconds * 100).rounded() / 100)]))
        plane.stop()
    }

    /// Idle nodes renewing their Leases every 10 s: the store writes per second that costs.
    func heartbeats(nodes: Int, window: Duration) async throws {
        let plane = try await Plane(directory: directory, nodes: nodes, logger: logger)
        let agents = NodeAgents(server: plane.server, nodes: plane.nodes, logger: logger)
        let running = Task { await agents.runAgents() }
        try await plane.waitForNodes(nodes)
        try await Task.sleep(for: NodeAgents.leaseInterval)
        let before = try await plane.store.currentRevision()
        let cpuBefore = BenchOutput.cpuSeconds()
        try await Task.sleep(for: window)
        let writes = try await plane.store.currentRevision() - before
        let seconds = window.seconds
        running.cancel()
        await running.value
        print(BenchOutput.json([("scenario", "node-heartbeats"), ("nodes", nodes), ("writes_per_sec", Int(Double(writes) / seconds)),
                                ("cpu_percent", Int((BenchOutput.cpuSeconds() - cpuBefore) / seconds * 100))]))
        plane.stop()
    }

    /// Memory of the whole control plane with `nodes` nodes and `pods` Running pods.
    func memory(nodes: Int, pods: Int) async throws {
        let plane = try await Plane(directory: directory, nodes: nodes, logger: logger)
        let (running, informers) = try await plane.countRunningPods()
        let components = plane.start()
        try await plane.registerNodes()
        let start = ContinuousClock.now
        let resource = try plane.admin.resource("deployments", group: "apps")
        let perDeployment = 1000
        for index in 0..<(pods / perDeployment) {
            _ = try await plane.admin.create(resource, Plane.deployment("m\(index)", replicas: perDeployment))
        }
        await running.wait(for: pods / perDeployment * perDeployment)
        let seconds = (ContinuousClock.now - start).seconds
        try await Task.sleep(for: .seconds(2))
        print(BenchOutput.json([("scenario", "memory"), ("nodes", nodes), ("pods", pods),
                                ("rss_mib", BenchOutput.residentBytes() / 1_048_576), ("seconds_to_running", Int(seconds))]))
        await components.stop()
        await informers.stop()
        plane.stop()
    }
}

/// A control plane for one scenario: a fresh store, the API server, and simulated nodes.
struct Plane: Sendable {
    let store: SQLiteKubeStore
    let registry: Registry
    let server: APIServer
    let admin: KubeClient
    let nodes: [SimulatedNode]
    let logger: Logger

    init(directory: URL, nodes count: Int, logger: Logger) async throws {
        store = try SQLiteKubeStore(path: directory.appendingPathComponent("workloads-\(UUID().uuidString).sqlite").path)
        registry = Registry(store: store, serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
        server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        admin = KubeClient(server: server, user: UserInfo(name: "bench", groups: ["system:masters"]), userAgent: "bench")
        self.logger = logger
        // m5.8xlarge-like nodes with prefix delegation: 32 vCPUs, 128 GiB, 110 pods.
        var capacity = ResourceList()
        capacity["cpu"] = 32_000
        capacity["memory"] = 128 * 1_073_741_824 * 1000
        capacity["pods"] = 110_000
        nodes = (0..<count).map { index in
            let (third, fourth) = (index / 250, index % 250 + 1)
            let address = "10.\(third / 250).\(third % 250).\(fourth)"
            return SimulatedNode(name: "ip-\(address.replacingOccurrences(of: ".", with: "-")).ec2.internal",
                                 instanceId: "i-" + String(format: "%017x", index), instanceType: "m5.8xlarge",
                                 zone: ["us-east-1a", "us-east-1b", "us-east-1c"][index % 3], region: "us-east-1", privateIP: address,
                                 podAddresses: (0..<110).map { "100.\(index / 500).\(index % 500 / 2).\((index % 2) * 120 + $0 + 1)" },
                                 labels: ["kubernetes.io/hostname": "node-\(index)"], taints: [], capacity: capacity, allocatable: capacity,
                                 kubeletVersion: "v1.34.1-eks-4096c30")
        }
    }

    static func pod(_ index: Int) -> JSON {
        ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string("pod-\(index)"), "namespace": "default", "labels": ["app": "bench"]],
         "spec": ["containers": [["name": "main", "image": "nginx:1.27", "resources": ["requests": ["cpu": "100m", "memory": "128Mi"]]]]]]
    }

    static func deployment(_ name: String, replicas: Int) -> JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name), "namespace": "default"],
         "spec": ["replicas": .int(Int64(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                  "template": ["metadata": ["labels": ["app": .string(name)]],
                               "spec": ["containers": [["name": "main", "image": "nginx:1.27",
                                                        "resources": ["requests": ["cpu": "100m", "memory": "128Mi"]]]]]]]]
    }

    /// Registers every node as its agent would, without running the agents.
    func registerNodes() async throws {
        let agents = NodeAgents(server: server, nodes: nodes, logger: logger)
        _ = await agents.forEach(nodes) { node in await agents.registerNode(node) ? node.name : nil }
        try await waitForNodes(nodes.count)
    }

    func waitForNodes(_ count: Int) async throws {
        let resource = try admin.resource("nodes")
        while try await admin.list(resource).count < count { try await Task.sleep(for: .milliseconds(50)) }
    }

    func createPods(_ count: Int) async throws {
        let resource = try admin.resource("pods")
        // No controller manager runs here to make the namespace's service account, which admission wants.
        _ = try? await admin.create(try admin.resource("serviceaccounts"), ["apiVersion": "v1", "kind": "ServiceAccount",
                                                                          "metadata": ["name": "default", "namespace": "default"]])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<32 {
                group.addTask {
                    for index in stride(from: client, to: count, by: 32) { _ = try await admin.create(resource, Self.pod(index)) }
                }
            }
            try await group.waitForAll()
        }
    }

    /// An informer on pods calling `body` for each change.
    func watchPods(_ body: @escaping @Sendable (CachedResource.Event) -> Void) async throws -> SharedInformers {
        let informers = SharedInformers(client: admin)
        try await informers.informer("pods").addHandler { event in
            if case .change(let change) = event { body(change) }
        }
        informers.start()
        await informers.waitForSync()
        return informers
    }

    /// Counts pods as they turn Running.
    func countRunningPods() async throws -> (Counter, SharedInformers) {
        let running = Counter()
        let informers = try await watchPods { change in
            if change.kind == .updated, Pod(change.object).phase == "Running", change.previous.map({ Pod($0).phase }) != "Running" { running.add() }
        }
        return (running, informers)
    }

    /// The controller manager, the scheduler and the node agents.
    func start() -> Components {
        let manager = ControllerManager(server: server, identity: "bench", logger: logger)
        let scheduler = Scheduler(server: server, identity: "bench", logger: logger)
        let agents = NodeAgents(server: server, nodes: nodes, logger: logger)
        return Components(tasks: [Task { await manager.runControllers() }, Task { await scheduler.schedule() }, Task { await agents.runAgents() }])
    }

    func stop() {
        registry.shutdown()
    }
}

struct Components: Sendable {
    let tasks: [Task<Void, Never>]

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

/// Counts events and wakes a waiter at a target.
final class Counter: Sendable {
    private let count = Mutex(0)

    func add() { count.withLock { $0 += 1 } }

    func wait(for target: Int) async {
        while count.withLock({ $0 }) < target { try? await Task.sleep(for: .milliseconds(5)) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
