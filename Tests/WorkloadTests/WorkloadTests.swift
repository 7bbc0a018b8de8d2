import Foundation
import KubeAPI
import KubeClient
import KubeModel
import KubeStore
import Logging
import Testing
@testable import Controllers
@testable import NodeAgent
@testable import Scheduler

/// Deployments rolling out onto simulated nodes: the controller manager, the scheduler and the node
/// agents of one control plane, against a real store.
struct WorkloadTests {
    let registry: Registry
    let server: APIServer
    let admin: KubeClient

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("workloads-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path),
                            serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
        server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        admin = KubeClient(server: server, user: UserInfo(name: "admin", groups: ["system:masters"]), userAgent: "kubectl/v1.34")
    }

    /// A t3.medium's node: 17 pods.
    static func node(_ index: Int) -> SimulatedNode {
        let address = "172.31.\(index).10"
        var allocatable = ResourceList()
        allocatable["cpu"] = 1930
        allocatable["memory"] = 3_388_464_000 * 1000
        allocatable["pods"] = 17_000
        return SimulatedNode(name: "ip-172-31-\(index)-10.ec2.internal", instanceId: "i-0000000000000000\(index)", instanceType: "t3.medium",
                             zone: "us-east-1a", region: "us-east-1", privateIP: address,
                             podAddresses: (11..<26).map { "172.31.\(index).\($0)" },
                             labels: ["kubernetes.io/hostname": "ip-172-31-\(index)-10.ec2.internal"], taints: [],
                             capacity: allocatable, allocatable: allocatable, kubeletVersion: "v1.34.1-eks-4096c30")
    }

    func withControlPlane(nodes: [SimulatedNode], _ body: () async throws -> Void) async throws {
        let logger = Logger(label: "test")
        let manager = ControllerManager(server: server, identity: "test", logger: logger)
        let scheduler = Scheduler(server: server, identity: "test", logger: logger)
        let agents = NodeAgents(server: server, nodes: nodes, logger: logger)
        let tasks = [Task { await manager.runControllers() }, Task { await scheduler.schedule() }, Task { await agents.runAgents() }]
        defer { for task in tasks { task.cancel() } }
        try await body()
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
        registry.shutdown()
    }

    func eventually(within limit: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    func deployment(_ name: String, replicas: Int64, image: String) -> JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": .string(name), "namespace": "default"],
         "spec": ["replicas": .int(replicas), "selector": ["matchLabels": ["app": .string(name)]],
                  "template": ["metadata": ["labels": ["app": .string(name)]],
                               "spec": ["containers": [["name": "web", "image": .string(image)]]]]]]
    }

    @Test(.timeLimit(.minutes(2))) func aDeploymentFillsItsNodesAndWhatDoesNotFitWaitsWithTheSchedulersReason() async throws {
        let pods = try admin.resource("pods")
        let deployments = try admin.resource("deployments", group: "apps")
        try await withControlPlane(nodes: [Self.node(1), Self.node(2)]) {
            _ = try await admin.create(deployments, deployment("web", replicas: 40, image: "nginx:1.27"))
            // Two nodes of 17 pods take 34; 6 wait for room. Each node has 15 addresses for pods (a t3.medium's
            // 3 interfaces of 5 secondary addresses; its other 2 slots are for host-network pods), so 30 run
            // and 4 wait in ContainerCreating for an address, as on EKS.
            #expect(try await eventually { try await admin.list(pods, namespace: "default").filter { Pod($0).phase == "Running" }.count == 30 })
            #expect(try await eventually { try await admin.list(pods, namespace: "default").filter { Pod($0).nodeName != nil }.count == 34 })
            let all = try await admin.list(pods, namespace: "default")
            #expect(all.count == 40)
            let running = all.filter { Pod($0).phase == "Running" }
            let addresses = running.compactMap { Pod($0).podIP }
            #expect(Set(addresses).count == 30)
            let waiting = all.filter { Pod($0).nodeName != nil && Pod($0).phase == "Pending" }
            #expect(waiting.count == 4 && waiting.allSatisfy {
                $0[path: ["status", "containerStatuses"]]?.array?.first?[path: ["state", "waiting", "reason"]] == "ContainerCreating"
            })
            #expect(try await eventually {
                try await admin.list(try admin.resource("events"), namespace: "default").contains {
                    $0["reason"] == "FailedCreatePodSandBox" && $0["message"]?.string?.hasSuffix("failed to assign an IP address to container") == true
                }
            })
            for pod in running {
                let node = Pod(pod).nodeName ?? ""
                let index = node == Self.node(1).name ? 1 : 2
                #expect(Pod(pod).podIP?.hasPrefix("172.31.\(index).") == true && Pod(pod).isReady)
                #expect(pod[path: ["status", "containerStatuses"]]?.array?.first?["imageID"]?.string?.hasPrefix("docker.io/library/nginx@sha256:") == true)
            }
            #expect(try await eventually {
                try await admin.list(pods, namespace: "default").filter { Pod($0).nodeName == nil }
                    .allSatisfy { $0.condition("PodScheduled")?.message == "0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod." }
            })
            let events = try await admin.list(try admin.resource("events"), namespace: "default").filter { $0["reason"] == "FailedScheduling" }
            #expect(!events.isEmpty)
            // Scaled down to fit, every pod runs (the surplus goes first) and the deployment is available.
            _ = try await admin.patch(deployments, ObjectKey(namespace: "default", name: "web"), ["spec": ["replicas": 20]])
            #expect(try await eventually {
                let status = try await admin.get(deployments, ObjectKey(namespace: "default", name: "web"))["status"] ?? [:]
                return status["availableReplicas"] == 20 && status["updatedReplicas"] == 20 && status["replicas"] == 20
            })
            #expect(try await eventually { try await admin.list(pods, namespace: "default").count == 20 })
        }
    }

    @Test(.timeLimit(.minutes(2))) func aRollingUpdateReplacesEveryPodWithinItsSurge() async throws {
        let pods = try admin.resource("pods")
        let deployments = try admin.resource("deployments", group: "apps")
        let replicaSets = try admin.resource("replicasets", group: "apps")
        let key = ObjectKey(namespace: "default", name: "api")
        try await withControlPlane(nodes: [Self.node(1), Self.node(2)]) {
            _ = try await admin.create(deployments, deployment("api", replicas: 8, image: "nginx:1.26"))
            #expect(try await eventually { try await admin.get(deployments, key)[path: ["status", "availableReplicas"]] == 8 })
            _ = try await admin.patch(deployments, key, ["spec": ["template": ["spec": ["containers": [["name": "web", "image": "nginx:1.27"]]]]]],
                                      type: .strategic)
            var most = 0
            #expect(try await eventually {
                let all = try await admin.list(pods, namespace: "default")
                most = max(most, all.count)
                let deployment = try await admin.get(deployments, key)
                let status = deployment["status"] ?? [:]
                return status["updatedReplicas"] == 8 && status["availableReplicas"] == 8 && status["replicas"] == 8
                    && deployment.condition("Progressing")?.reason == "NewReplicaSetAvailable"
                    && all.count == 8 && all.allSatisfy { $0[path: ["spec", "containers"]]?.array?.first?["image"] == "nginx:1.27" }
            })
            // 25% surge of 8: never more than 10 pods at once.
            #expect(most <= 10)
            let sets = try await admin.list(replicaSets, namespace: "default")
            #expect(sets.count == 2)
            #expect(Set(sets.compactMap { $0.annotations["deployment.kubernetes.io/revision"] }) == ["1", "2"])
            #expect(sets.allSatisfy { $0.name.hasPrefix("api-") && $0.labels["pod-template-hash"] != nil })
        }
    }

    @Test(.timeLimit(.minutes(2))) func scalingInTheMiddleOfARolloutEndsWithExactlyTheReplicasAllPlaced() async throws {
        let pods = try admin.resource("pods")
        let deployments = try admin.resource("deployments", group: "apps")
        let key = ObjectKey(namespace: "default", name: "web")
        try await withControlPlane(nodes: [Self.node(1), Self.node(2)]) {
            _ = try await admin.create(deployments, deployment("web", replicas: 20, image: "nginx:1.27"))
            #expect(try await eventually { try await admin.get(deployments, key)[path: ["status", "availableReplicas"]] == 20 })
            _ = try await admin.patch(deployments, key, ["spec": ["template": ["spec": ["containers": [["name": "web", "image": "nginx:1.28"]]]]]],
                                      type: .strategic)
            _ = try await admin.patch(deployments, key, ["spec": ["replicas": 30]])
            // Deleted pods give their room back to the scheduler and their addresses to their node: all 30 are
            // placed, and each node runs as many as it has addresses for (15).
            #expect(try await eventually {
                let all = try await admin.list(pods, namespace: "default")
                let byNode = Dictionary(grouping: all) { Pod($0).nodeName ?? "" }
                return all.count == 30 && byNode[""] == nil
                    && byNode.values.allSatisfy { onNode in onNode.filter { Pod($0).phase == "Running" }.count == min(onNode.count, 15) }
                    && all.allSatisfy { $0[path: ["spec", "containers"]]?.array?.first?["image"] == "nginx:1.28" }
            })
        }
    }

    @Test(.timeLimit(.minutes(2))) func aDaemonSetRunsOnePodPerEligibleNodeAndRollsItsTemplate() async throws {
        let pods = try admin.resource("pods")
        let daemonSets = try admin.resource("daemonsets", group: "apps")
        let tainted = SimulatedNode(name: "tainted", instanceId: "i-00000000000000009", instanceType: "t3.medium", zone: "us-east-1a",
                                    region: "us-east-1", privateIP: "172.31.9.10", podAddresses: ["172.31.9.11"], labels: ["kubernetes.io/hostname": "tainted"],
                                    taints: [Taint(key: "dedicated", value: "gpu", effect: "NoSchedule")],
                                    capacity: Self.node(1).capacity, allocatable: Self.node(1).allocatable, kubeletVersion: "v1.34.1-eks-4096c30")
        let key = ObjectKey(namespace: "default", name: "agent")
        try await withControlPlane(nodes: [Self.node(1), Self.node(2), tainted]) {
            let daemonSet: JSON = ["apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": ["name": "agent", "namespace": "default"],
                                   "spec": ["selector": ["matchLabels": ["app": "agent"]],
                                            "template": ["metadata": ["labels": ["app": "agent"]],
                                                         "spec": ["containers": [["name": "agent", "image": "agent:1"]]]]]]
            _ = try await admin.create(daemonSets, daemonSet)
            // The tainted node takes no daemon that does not tolerate its taint.
            #expect(try await eventually {
                let placed = try await admin.list(pods, namespace: "default").filter { Pod($0).phase == "Running" }.compactMap { Pod($0).nodeName }
                return placed.sorted() == [Self.node(1).name, Self.node(2).name]
            })
            #expect(try await admin.get(daemonSets, key)[path: ["status", "desiredNumberScheduled"]] == 2)
            _ = try await admin.patch(daemonSets, key, ["spec": ["template": ["spec": [
                "containers": [["name": "agent", "image": "agent:2"]],
                "tolerations": [["key": "dedicated", "operator": "Exists"]]]]]])
            // Now on all three, every pod of the new template.
            #expect(try await eventually {
                let all = try await admin.list(pods, namespace: "default")
                let status = try await admin.get(daemonSets, key)["status"] ?? [:]
                return all.count == 3 && all.allSatisfy { Pod($0).phase == "Running" && $0[path: ["spec", "containers"]]?.array?.first?["image"] == "agent:2" }
                    && status["updatedNumberScheduled"] == 3 && status["numberReady"] == 3
            })
        }
    }
}
