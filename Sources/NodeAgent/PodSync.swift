import Foundation
import KubeAPI
import KubeClient
import KubeModel
import Synchronization

/// Each node's pool of pod addresses and which pod holds each.
final class AddressPools: Sendable {
    private let held = Mutex<[String: [String: ObjectKey]]>([:])

    /// An address of the node's pool for the pod (the one it holds already, if any); nil when all are taken.
    func assign(_ pod: Pod, pool: [String], node: String) -> String? {
        held.withLock { held in
            var taken = held[node] ?? [:]
            if let existing = taken.first(where: { $0.value == pod.key })?.key { return existing }
            guard let free = pool.first(where: { taken[$0] == nil }) else { return nil }
            taken[free] = pod.key
            held[node] = taken
            return free
        }
    }

    /// Records the address a running pod already has (after a restart).
    func claim(_ pod: Pod) {
        guard let node = pod.nodeName, let address = pod.podIP, !pod.isTerminal, !pod.hostNetwork else { return }
        held.withLock { $0[node, default: [:]][address] = pod.key }
    }

    func release(_ pod: Pod) {
        guard let node = pod.nodeName else { return }
        held.withLock { held in
            held[node] = held[node]?.filter { $0.value != pod.key }
        }
    }
}

/// One step of a pod's life on its node, as its kubelet takes it.
struct PodSync: Sendable {
    let agents: NodeAgents
    let pods: Informer
    let addresses: AddressPools

    /// Returns when to look at the pod again, if its containers are due to exit.
    func sync(_ key: ObjectKey) async throws -> Duration? {
        guard let object = pods.get(key) else { return nil }
        let pod = Pod(object)
        guard let nodeName = pod.nodeName, let node = agents.node(nodeName) else { return nil }
        if pod.isTerminal || pod.isBeingDeleted {
            addresses.release(pod)
            return nil
        }
        let client = agents.client(for: node)
        let resource = try client.resource("pods")
        let now = Date()
        switch pod.phase {
        case "Pending":
            let address: String
            if pod.hostNetwork {
                address = node.privateIP
            } else if let assigned = addresses.assign(pod, pool: node.podAddresses, node: node.name) {
                address = assigned
            } else {
                try await reportNoAddress(pod, node: node, client: client)
                return .seconds(5)
            }
            var creating = object
            creating["status"] = SimulatedContainers.creating(pod, hostIP: node.privateIP, now: now)
            let written = try await client.updateStatus(resource, creating)
            var running = written
            running["status"] = SimulatedContainers.running(Pod(written), hostIP: node.privateIP, podIP: address, now: now)
            _ = try await client.updateStatus(resource, running)
            return SimulatedContainers.runTime(pod).map { .milliseconds(Int64($0 * 1000)) }
        case "Running":
            guard let runTime = SimulatedContainers.runTime(pod) else { return nil }
            let started = pod.object[path: ["status", "startTime"]]?.string.flatMap(Timestamps.parse) ?? now
            let remaining = runTime - now.timeIntervalSince(started)
            if remaining > 0 { return .milliseconds(Int64(remaining * 1000) + 1) }
            let exitCode = SimulatedContainers.exitCode(pod)
            var exited = object
            exited["status"] = SimulatedContainers.exited(pod, exitCode: exitCode, now: now)
            _ = try await client.updateStatus(resource, exited)
            addresses.release(pod)
            return nil
        default:
            return nil
        }
    }

    /// The pod waits in ContainerCreating with the event EKS users know when the node has no address left.
    func reportNoAddress(_ pod: Pod, node: SimulatedNode, client: KubeClient) async throws {
        let message = "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox \"\(Identifiers.hex(pod.uid, count: 64))\": plugin type=\"aws-cni\" name=\"aws-cni\" failed (add): add cmd: failed to assign an IP address to container"
        var waiting = pod.object
        waiting["status"] = SimulatedContainers.creating(pod, hostIP: node.privateIP, now: Date())
        if waiting["status"] != pod.object["status"] { _ = try await client.updateStatus(try client.resource("pods"), waiting) }
        let now = Timestamps.format(Date())
        let event: JSON = [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["generateName": .string("\(pod.name)."), "namespace": .string(pod.namespace)],
            "involvedObject": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name), "namespace": .string(pod.namespace), "uid": .string(pod.uid)],
            "type": "Warning", "reason": "FailedCreatePodSandBox", "message": .string(message),
            "source": ["component": "kubelet", "host": .string(node.name)], "reportingComponent": "kubelet", "reportingInstance": .string(node.name),
            "firstTimestamp": .string(now), "lastTimestamp": .string(now), "count": 1,
        ]
        _ = try? await client.create(try client.resource("events"), event)
    }
}
