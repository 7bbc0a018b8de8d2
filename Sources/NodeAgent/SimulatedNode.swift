import KubeAPI
import KubeModel

/// One node as its agent registers it: what EKS knows of the instance behind it.
public struct SimulatedNode: Sendable, Equatable {
    /// `ip-172-31-5-20.ec2.internal`
    public let name: String
    public let instanceId: String
    public let instanceType: String
    public let zone: String
    public let region: String
    public let privateIP: String
    /// Addresses its pods take (the VPC CNI's secondary addresses on the instance's network interfaces).
    public let podAddresses: [String]
    public let labels: [String: String]
    public let taints: [Taint]
    /// cpu, memory, pods, ephemeral-storage.
    public let capacity: ResourceList
    public let allocatable: ResourceList
    public let kubeletVersion: String

    public init(name: String, instanceId: String, instanceType: String, zone: String, region: String, privateIP: String,
                podAddresses: [String], labels: [String: String], taints: [Taint], capacity: ResourceList, allocatable: ResourceList,
                kubeletVersion: String) {
        self.name = name
        self.instanceId = instanceId
        self.instanceType = instanceType
        self.zone = zone
        self.region = region
        self.privateIP = privateIP
        self.podAddresses = podAddresses
        self.labels = labels
        self.taints = taints
        self.capacity = capacity
        self.allocatable = allocatable
        self.kubeletVersion = kubeletVersion
    }

    /// The user a node's kubelet acts as.
    public var user: UserInfo { UserInfo(name: "system:node:\(name)", groups: ["system:nodes", "system:authenticated"]) }

    /// The Node object as the kubelet registers it on EKS.
    func nodeObject(conditions: [JSON]) -> JSON {
        [
            "apiVersion": "v1", "kind": "Node",
            "metadata": ["name": .string(name), "labels": .strings(labels),
                         "annotations": ["alpha.kubernetes.io/provided-node-ip": .string(privateIP),
                                         "node.alpha.kubernetes.io/ttl": "0",
                                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"]],
            "spec": ["providerID": .string("aws:///\(zone)/\(instanceId)"), "taints": taints.isEmpty ? nil : .array(taints.map(\.json))],
            "status": [
                "capacity": capacity.json.merging(["hugepages-1Gi": "0", "hugepages-2Mi": "0"]),
                "allocatable": allocatable.json.merging(["hugepages-1Gi": "0", "hugepages-2Mi": "0"]),
                "conditions": .array(conditions),
                "addresses": [["type": "InternalIP", "address": .string(privateIP)],
                              ["type": "InternalDNS", "address": .string(name)], ["type": "Hostname", "address": .string(name)]],
                "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]],
                "nodeInfo": ["architecture": .string(labels["kubernetes.io/arch"] ?? "amd64"), "operatingSystem": "linux",
                             "osImage": "Amazon Linux 2023.6.20250203", "kernelVersion": "6.1.127-135.201.amzn2023.x86_64",
                             "containerRuntimeVersion": "containerd://1.7.25", "kubeletVersion": .string(kubeletVersion),
                             "kubeProxyVersion": .string(kubeletVersion), "machineID": .string(Identifiers.hex(instanceId, count: 32)),
                             "systemUUID": .string(Identifiers.uuid(instanceId)), "bootID": .string(Identifiers.uuid(instanceId + "boot"))],
            ],
        ]
    }
}


/// Stable identifiers derived from a name, so what a node reports stays the same across restarts.
enum Identifiers {
    /// `count` hex digits, FNV-1a of the seed, repeated as needed.
    static func hex(_ seed: String, count: Int) -> String {
        var text = ""
        var round: UInt64 = 0
        while text.count < count {
            let hash = FNV1a.hash64(Array(seed.utf8) + [UInt8(truncatingIfNeeded: round)])
            text += String(hash, radix: 16).leftPadded(to: 16)
            round += 1
        }
        return String(text.prefix(count))
    }

    static func uuid(_ seed: String) -> String {
        let digits = Array(hex(seed, count: 32))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
    }
}

extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
