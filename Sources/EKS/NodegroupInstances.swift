import Foundation
import RegionStore
import VPC

/// A managed node group's Auto Scaling group: the EC2 instances behind its nodes, kept at its desired
/// size across its subnets (balanced by zone, as an ASG balances), replaced when terminated by hand,
/// terminated when it shrinks or goes. An instance holds its primary address and, for pods, the
/// secondary addresses of every network interface its type allows, from its subnet.
extension EKSService {
    static let clusterTag = "eks:cluster-name"
    static let nodegroupTag = "eks:nodegroup-name"
    static let autoScalingGroupTag = "aws:autoscaling:groupName"

    /// The node group's running instances.
    func instances(_ reader: RecordReader, of nodegroup: Nodegroup) throws -> [InstanceRecord] {
        try network.instances(reader, tagged: Self.nodegroupTag, nodegroup.nodegroupName)
            .filter { $0.tag(Self.clusterTag) == nodegroup.clusterName && $0.state == .running }
    }

    /// Brings the instance count to what the node group's status and scaling ask for. A launch that cannot
    /// get addresses leaves the node group with EKS's `InsufficientFreeAddresses` health issue.
    func scaleInstances(_ tx: RecordTransaction, _ record: inout NodegroupRecord, cluster: ClusterRecord?) throws {
        let nodegroup = record.nodegroup
        let desired: Int = switch nodegroup.status {
        case .ACTIVE, .UPDATING, .DEGRADED: nodegroup.scalingConfig.desiredSize ?? 0
        case .CREATING, .CREATE_FAILED: 0
        case .DELETING, .DELETE_FAILED: 0
        }
        var running = try instances(tx.reader, of: nodegroup)
        if running.count > desired {
            // From the zone with the most instances, the oldest first.
            var victims: [String] = []
            for _ in 0..<(running.count - desired) {
                let byZone = Dictionary(grouping: running, by: \.availabilityZone)
                guard let zone = byZone.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) })?.key,
                      let oldest = byZone[zone]?.min(by: { $0.launchTime < $1.launchTime }) else { break }
                victims.append(oldest.instanceId)
                running.removeAll { $0.instanceId == oldest.instanceId }
            }
            _ = try network.terminateInstances(tx, ids: victims, reason: "Service initiated")
            return
        }
        guard running.count < desired, let cluster else { return }
        let typeName = nodegroup.instanceTypes?.first ?? record.templateInstanceType ?? "t3.medium"
        let type = InstanceType.named(typeName)
        let subnets = try network.subnets(tx, ids: nodegroup.subnets)
        var launched = 0
        do {
            for _ in 0..<(desired - running.count) {
                // The subnet with the fewest instances of this group, so zones stay balanced.
                guard let subnet = subnets.min(by: { a, b in
                    (running.filter { $0.subnetId == a.subnetId }.count, a.subnetId) < (running.filter { $0.subnetId == b.subnetId }.count, b.subnetId)
                }) else { break }
                let instance = try network.launchInstances(
                    tx, count: 1, instanceType: typeName, imageId: Self.imageId(nodegroup), subnetId: subnet.subnetId,
                    securityGroupIds: [cluster.cluster.resourcesVpcConfig.clusterSecurityGroupId].compactMap { $0 },
                    podAddresses: type?.podAddresses ?? 0, tags: tags(for: nodegroup))
                running += instance
                launched += 1
            }
            if record.nodegroup.health.issues.contains(where: { $0.code == "InsufficientFreeAddresses" }) {
                record.nodegroup.health.issues.removeAll { $0.code == "InsufficientFreeAddresses" }
                try tx.save(record)
            }
        } catch let error as EC2Error where error.code == "InsufficientFreeAddressesInSubnet" {
            let issue = Issue(code: "InsufficientFreeAddresses",
                              message: "One or more of the subnets associated with your node group does not have enough available IP addresses for new nodes.",
                              resourceIds: nodegroup.subnets)
            if !record.nodegroup.health.issues.contains(issue) {
                record.nodegroup.health.issues.append(issue)
                if running.isEmpty { record.nodegroup.status = .CREATE_FAILED }
                try tx.save(record)
            }
        }
    }

    func tags(for nodegroup: Nodegroup) -> [Tag] {
        let group = nodegroup.resources.autoScalingGroups.first?.name ?? "eks-\(nodegroup.nodegroupName)"
        return [Tag(key: Self.clusterTag, value: nodegroup.clusterName), Tag(key: Self.nodegroupTag, value: nodegroup.nodegroupName),
                Tag(key: Self.autoScalingGroupTag, value: group), Tag(key: "kubernetes.io/cluster/\(nodegroup.clusterName)", value: "owned"),
                Tag(key: "k8s.io/cluster-autoscaler/enabled", value: "true"),
                Tag(key: "k8s.io/cluster-autoscaler/\(nodegroup.clusterName)", value: "owned")]
    }

    /// The node group's AMI: one id per AMI type and release, stable across restarts.
    static func imageId(_ nodegroup: Nodegroup) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in (nodegroup.amiType + nodegroup.releaseVersion).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        let digits = String(hash, radix: 16)
        return "ami-0" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// The Nodes a cluster's control plane runs, from its node groups' instances.
    func nodes(_ reader: RecordReader, cluster: ClusterRecord) throws -> [NodeSpec] {
        let version = KubernetesVersions.named(cluster.cluster.version)
        var nodes: [NodeSpec] = []
        for record in try reader.all(NodegroupRecord.self, keyPrefix: cluster.cluster.name + "/") {
            let nodegroup = record.nodegroup
            for instance in try instances(reader, of: nodegroup) {
                guard let type = InstanceType.named(instance.instanceType) else { continue }
                nodes.append(NodeSpec(instance: instance, type: type, nodegroup: nodegroup, region: network.region,
                                      kubeletVersion: "v\(KubernetesVersions.named(nodegroup.version)?.patchVersion ?? version?.patchVersion ?? nodegroup.version)-eks-4096c30"))
            }
        }
        return nodes.sorted { $0.name < $1.name }
    }
}

extension NodeSpec {
    init(instance: InstanceRecord, type: InstanceType, nodegroup: Nodegroup, region: Region, kubeletVersion: String) {
        let name = instance.privateDnsName(region: region.name)
        let zoneId = region.availabilityZones.first { $0.name == instance.availabilityZone }?.id ?? instance.availabilityZone
        var labels = [
            "eks.amazonaws.com/nodegroup": nodegroup.nodegroupName,
            "eks.amazonaws.com/capacityType": nodegroup.capacityType.rawValue,
            "eks.amazonaws.com/nodegroup-image": instance.imageId,
            "node.kubernetes.io/instance-type": type.name, "beta.kubernetes.io/instance-type": type.name,
            "topology.kubernetes.io/zone": instance.availabilityZone, "failure-domain.beta.kubernetes.io/zone": instance.availabilityZone,
            "topology.kubernetes.io/region": region.name, "failure-domain.beta.kubernetes.io/region": region.name,
            "topology.k8s.aws/zone-id": zoneId,
            "kubernetes.io/os": "linux", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "beta.kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
        ]
        labels.merge(nodegroup.labels) { $1 }
        let taints = (nodegroup.taints ?? []).map { taint -> NodeSpec.Taint in
            let effect = switch taint.effect {
            case .NO_EXECUTE: "NoExecute"
            case .PREFER_NO_SCHEDULE: "PreferNoSchedule"
            default: "NoSchedule"
            }
            return NodeSpec.Taint(key: taint.key ?? "", value: taint.value ?? "", effect: effect)
        }
        let maxPods = type.maxPods
        let memory = type.memoryCapacityKiB
        let disk = (nodegroup.diskSize ?? 20) * 1024 * 1024 - 1024 * 20
        self.init(name: name, instanceId: instance.instanceId, instanceType: type.name, zone: instance.availabilityZone,
                  privateIP: instance.privateIpAddress, podAddresses: instance.podAddresses, labels: labels, taints: taints,
                  cpuMillicores: type.vCPUs * 1000, allocatableCpuMillicores: type.vCPUs * 1000 - type.reservedMillicores,
                  memoryKiB: memory, allocatableMemoryKiB: memory - type.reservedMemoryKiB(maxPods: maxPods),
                  ephemeralStorageKiB: disk, allocatableEphemeralStorageKiB: disk * 9 / 10 - 1024 * 1024, maxPods: maxPods,
                  kubeletVersion: kubeletVersion)
    }
}
