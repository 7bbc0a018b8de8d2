import EKS
import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Logging
import NodeAgent
import ServiceLifecycle
import Synchronization

/// The cluster's ACTIVE Fargate profiles, as the webhook and the scheduler read them; they change without a restart.
final class FargateProfiles: Sendable {
    private let current: Mutex<[FargateProfileSpec]>

    init(_ profiles: [FargateProfileSpec]) {
        current = Mutex(profiles)
    }

    var profiles: [FargateProfileSpec] {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// The first profile (by name) whose selectors take a pod of `namespace` with `labels`.
    func profile(namespace: String, labels: [String: String]) -> FargateProfileSpec? {
        profiles.first { $0.matches(namespace: namespace, labels: labels) }
    }
}

/// Where Fargate pods' addresses come from: the region's subnets, as a network interface's are taken.
public struct FargateAddressing: Sendable {
    public var allocate: @Sendable (_ subnetId: String) async throws -> String
    public var release: @Sendable (_ subnetId: String, _ address: String) async -> Void

    public init(allocate: @escaping @Sendable (String) async throws -> String, release: @escaping @Sendable (String, String) async -> Void) {
        self.allocate = allocate
        self.release = release
    }
}

/// What EKS's pod webhook does for Fargate: a new pod that an ACTIVE profile's selectors match (and that no
/// DaemonSet owns, nor names its node) is the `fargate-scheduler`'s, labelled with the profile's name.
struct EKSFargateWebhook: AdmissionPlugin {
    static let profileLabel = "eks.amazonaws.com/fargate-profile"
    static let defaultScheduler = "default-scheduler"
    let profiles: FargateProfiles

    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.group.isEmpty, resource.resource == "pods", object[path: ["spec", "nodeName"]] == nil,
              (object[path: ["spec", "schedulerName"]]?.string ?? Self.defaultScheduler) == Self.defaultScheduler,
              !(object[path: ["metadata", "ownerReferences"]]?.array ?? []).contains(where: { $0["kind"]?.string == "DaemonSet" }),
              let profile = profiles.profile(namespace: namespace, labels: object.labels) else { return }
        object[path: ["spec", "schedulerName"]] = .string(FargateScheduler.name)
        object[path: ["metadata", "labels", Self.profileLabel]] = .string(profile.name)
    }
}

/// EKS's `fargate-scheduler`: while it holds its Lease, each pending pod of a Fargate profile gets a node of its own
/// (`fargate-ip-…`, in one of the profile's subnets, its address the pod's), sized up to the next Fargate vCPU and
/// memory combination (the pod's `CapacityProvisioned` annotation), and is bound to it; the node goes when the pod
/// does. Fargate nodes carry the `eks.amazonaws.com/compute-type=fargate` label and NoSchedule taint EKS gives them.
struct FargateScheduler: Service {
    static let name = "fargate-scheduler"
    static let user = UserInfo(name: "eks:fargate-scheduler", groups: ["system:masters", "system:authenticated"])
    static let computeTypeLabel = "eks.amazonaws.com/compute-type"

    let client: KubeClient
    let nodeAgents: NodeAgents
    let profiles: FargateProfiles
    let addressing: FargateAddressing
    let spec: ControlPlaneSpec
    let identity: String
    let leaseTiming: LeaseTiming
    let logger: Logger

    init(server: APIServer, nodeAgents: NodeAgents, profiles: FargateProfiles, addressing: FargateAddressing, spec: ControlPlaneSpec,
         identity: String, leaseTiming: LeaseTiming, logger: Logger) {
        client = KubeClient(server: server, user: Self.user, userAgent: "fargate-scheduler")
        self.nodeAgents = nodeAgents
        self.profiles = profiles
        self.addressing = addressing
        self.spec = spec
        self.identity = identity
        self.leaseTiming = leaseTiming
        self.logger = logger
    }

    func run() async throws {
        var candidate = LeaderElector(client: client, name: Self.name, identity: identity, timing: leaseTiming)
        candidate.logger = logger
        let elector = candidate
        await cancelWhenGracefulShutdown { await elector.run { await schedule() } }
    }

    /// A Fargate node this scheduler runs, and where its address came from.
    struct Placement: Sendable {
        let node: SimulatedNode
        let subnetId: String
        /// The pod the node is for.
        let pod: ObjectKey
    }

    /// The Fargate nodes running, by node name.
    final class Placements: Sendable {
        private let table = Mutex<[String: Placement]>([:])

        func withLock<T>(_ body: (inout [String: Placement]) -> T) -> T { table.withLock { body(&$0) } }
    }

    func schedule() async {
        let informers = SharedInformers(client: client)
        guard let pods = try? await informers.informer("pods"), let nodes = try? await informers.informer("nodes"),
              let podResource = try? client.resource("pods") else { return }
        let placements = Placements()
        let queue = WorkQueue<ObjectKey>()
        pods.addHandler { event in queue.add(event.key) }
        informers.start()
        await informers.waitForSync()
        // After a restart: the Fargate nodes there are run again, for the pods still on them.
        // After a restart: the Fargate nodes there run again for the pods bound to them; the others go.
        for object in nodes.list() where Node(object).labels[Self.computeTypeLabel] == "fargate" {
            let node = Node(object)
            let pod = pods.list().first { Pod($0).nodeName == node.name && !Pod($0).isTerminal }
            if let pod, let placement = recovered(node, pod: pod.objectKey) {
                placements.withLock { $0[placement.node.name] = placement }
                nodeAgents.add(placement.node)
            } else if let placement = recovered(node, pod: ObjectKey(namespace: nil, name: "")) {
                // Added so that its agent removes its Node, then released.
                nodeAgents.add(placement.node)
                placements.withLock { $0[placement.node.name] = placement }
                await release(placement.node.name, placements: placements)
            }
        }
        for object in pods.list() { queue.add(object.objectKey) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await queue.runDelays() }
            for _ in 0..<4 {
                group.addTask {
                    while let key = await queue.next() {
                        let pod = pods.get(key).map(Pod.init)
                        do {
                            try await sync(key, pod, pods: podResource, nodes: nodes, placements: placements)
                            queue.forget(key)
                        } catch {
                            logger.warning("Fargate scheduling failed", metadata: ["pod": "\(key)", "error": "\(error)"])
                            queue.addRateLimited(key)
                        }
                        queue.done(key)
                    }
                }
            }
            await withTaskCancellationHandler { await group.next() } onCancel: { queue.shutDown() }
            group.cancelAll()
        }
        await informers.stop()
    }

    private func sync(_ key: ObjectKey, _ pod: Pod?, pods: ResourceType, nodes: Informer, placements: Placements) async throws {
        let node = Self.nodeName(forPod: key, placements: placements)
        guard let pod, !pod.isTerminal, !pod.isBeingDeleted else {
            // The pod went (or finished): its node goes with it.
            if let node { await release(node, placements: placements) }
            return
        }
        guard pod.schedulerName == Self.name, pod.nodeName == nil else { return }
        guard let profile = profiles.profiles.first(where: { $0.name == pod.object.labels[EKSFargateWebhook.profileLabel] }),
              let subnet = profile.subnets.randomElement() else { return }
        let placement: Placement
        if let existing = placements.withLock({ $0.values.first { $0.pod == key } }) {
            placement = existing
        } else {
            let address = try await addressing.allocate(subnet.subnetId)
            placement = Placement(node: fargateNode(size: Self.capacity(for: pod), address: address, zone: subnet.zone),
                                  subnetId: subnet.subnetId, pod: key)
            placements.withLock { $0[placement.node.name] = placement }
            nodeAgents.add(placement.node)
        }
        // Bound once its kubelet has registered the node (else tried again).
        let deadline = ContinuousClock.now + .seconds(5)
        while nodes.get(ObjectKey(namespace: nil, name: placement.node.name)) == nil {
            guard ContinuousClock.now < deadline else { throw FargateError.nodeNotRegistered(placement.node.name) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let size = Self.capacity(for: pod)
        _ = try await client.patch(pods, key, ["metadata": ["annotations": ["CapacityProvisioned": .string(size.annotation)]]])
        let binding: JSON = ["apiVersion": "v1", "kind": "Binding", "metadata": ["name": .string(key.name), "namespace": .string(key.namespace ?? "")],
                             "target": ["apiVersion": "v1", "kind": "Node", "name": .string(placement.node.name)]]
        do {
            try await client.write(pods, key, subresource: "binding", body: binding)
        } catch let error as APIError where error.isNotFound {
            await release(placement.node.name, placements: placements)
        }
    }

    private static func nodeName(forPod key: ObjectKey, placements: Placements) -> String? {
        placements.withLock { $0.values.first { $0.pod == key }?.node.name }
    }

    enum FargateError: Error {
        case nodeNotRegistered(String)
    }

    private func release(_ name: String, placements: Placements) async {
        guard let placement = placements.withLock({ $0.removeValue(forKey: name) }) else { return }
        nodeAgents.remove(nodeNamed: name)
        await addressing.release(placement.subnetId, placement.node.privateIP)
    }

    /// `fargate-ip-10-0-1-23.ec2.internal` in us-east-1, `…​.REGION.compute.internal` elsewhere, as EKS names them.
    func nodeName(address: String) -> String {
        let host = "fargate-ip-" + address.replacingOccurrences(of: ".", with: "-")
        return spec.region == "us-east-1" ? "\(host).ec2.internal" : "\(host).\(spec.region).compute.internal"
    }

    func fargateNode(size: Size, address: String, zone: String) -> SimulatedNode {
        let name = nodeName(address: address)
        var capacity = ResourceList(), allocatable = ResourceList()
        capacity["cpu"] = size.milliCPU
        allocatable["cpu"] = size.milliCPU
        capacity["memory"] = size.memoryMiB * 1024 * 1024 * 1000
        allocatable["memory"] = size.memoryMiB * 1024 * 1024 * 1000
        capacity["ephemeral-storage"] = 20 * 1024 * 1024 * 1024 * 1000
        allocatable["ephemeral-storage"] = 20 * 1024 * 1024 * 1024 * 1000
        capacity["pods"] = 1000
        allocatable["pods"] = 1000
        let labels = [
            Self.computeTypeLabel: "fargate", "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux", "kubernetes.io/hostname": name,
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
            "topology.kubernetes.io/region": spec.region, "topology.kubernetes.io/zone": zone,
            "failure-domain.beta.kubernetes.io/region": spec.region, "failure-domain.beta.kubernetes.io/zone": zone,
        ]
        return SimulatedNode(name: name, instanceId: "", instanceType: "", zone: zone, region: spec.region, privateIP: address,
                             podAddresses: [address], labels: labels,
                             taints: [KubeModel.Taint(key: Self.computeTypeLabel, value: "fargate", effect: "NoSchedule")],
                             capacity: capacity, allocatable: allocatable,
                             kubeletVersion: "v\(spec.kubernetesVersion)-eks-fargate")
    }

    /// A Fargate node found in the cluster, run again for `pod`.
    private func recovered(_ node: Node, pod: ObjectKey) -> Placement? {
        guard let address = node.object[path: ["status", "addresses"]]?.array?.first(where: { $0["type"]?.string == "InternalIP" })?["address"]?.string
        else { return nil }
        let subnet = profiles.profiles.flatMap(\.subnets).first { $0.contains(address: address) }
        let capacity = ResourceList(node.object[path: ["status", "capacity"]])
        let size = Size(milliCPU: capacity["cpu"], memoryMiB: capacity["memory"] / 1000 / (1024 * 1024))
        return Placement(node: fargateNode(size: size, address: address, zone: node.labels["topology.kubernetes.io/zone"] ?? subnet?.zone ?? ""),
                         subnetId: subnet?.subnetId ?? "", pod: pod)
    }

    /// A Fargate size: vCPU in millicores and memory in MiB.
    struct Size: Equatable {
        let milliCPU: Int64
        let memoryMiB: Int64

        /// `0.25vCPU 0.5GB`, as EKS writes `CapacityProvisioned`.
        var annotation: String {
            func number(_ value: Double) -> String { value.rounded() == value ? String(Int(value)) : String(value) }
            return "\(number(Double(milliCPU) / 1000))vCPU \(number(Double(memoryMiB) / 1024))GB"
        }
    }

    /// The pod's requests (the larger of its containers' sum and any init container), plus the 256 MiB Fargate
    /// reserves for the kubelet and its peers, rounded up to the next vCPU and memory combination Fargate offers.
    static func capacity(for pod: Pod) -> Size {
        let requests = pod.requests
        let milliCPU = requests["cpu"]
        let memoryMiB = requests["memory"] / 1000 / (1024 * 1024) + 256
        let combinations: [(Int64, [Int64])] = [
            (250, [512, 1024, 2048]),
            (500, Array(stride(from: 1024, through: 4096, by: 1024))),
            (1000, Array(stride(from: 2048, through: 8192, by: 1024))),
            (2000, Array(stride(from: 4096, through: 16384, by: 1024))),
            (4000, Array(stride(from: 8192, through: 30720, by: 1024))),
            (8000, Array(stride(from: 16384, through: 61440, by: 4096))),
            (16000, Array(stride(from: 32768, through: 122880, by: 8192))),
        ]
        for (cpu, memories) in combinations where cpu >= milliCPU {
            if let memory = memories.first(where: { $0 >= memoryMiB }) { return Size(milliCPU: cpu, memoryMiB: memory) }
        }
        return Size(milliCPU: 16000, memoryMiB: 122880)
    }
}
