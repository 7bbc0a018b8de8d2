/// An EC2 instance type as AWS publishes it: what the EKS AMI and the VPC CNI size a node by.
public struct InstanceType: Sendable, Equatable {
    public let name: String
    public let vCPUs: Int
    public let memoryMiB: Int
    /// Network interfaces the instance may have attached.
    public let maxNetworkInterfaces: Int
    /// IPv4 addresses per interface (its primary address included).
    public let ipv4PerInterface: Int

    /// The VPC CNI's max pods: every interface's secondary addresses, plus the two host-network pods
    /// (aws-node, kube-proxy) every node runs: ENIs × (IPs per ENI − 1) + 2.
    public var maxPods: Int { maxNetworkInterfaces * (ipv4PerInterface - 1) + 2 }

    /// With prefix delegation, each secondary address slot holds a /28 (16 addresses); the EKS AMI then
    /// caps max pods at 110 below 30 vCPUs and 250 from 30 up, as Kubernetes recommends.
    public var maxPodsWithPrefixDelegation: Int {
        min(maxNetworkInterfaces * (ipv4PerInterface - 1) * 16 + 2, vCPUs < 30 ? 110 : 250)
    }

    /// Secondary addresses the node's interfaces can hold for pods.
    public var podAddresses: Int { maxNetworkInterfaces * (ipv4PerInterface - 1) }

    /// The CPU the EKS AMI reserves for the kubelet and system (millicores): 6% of the first core, 1% of
    /// the second, 0.5% of the next two, 0.25% of the rest.
    public var reservedMillicores: Int {
        var reserved = 0.0
        for core in 0..<vCPUs {
            let share: Double = switch core {
            case 0: 60
            case 1: 10
            case 2, 3: 5
            default: 2.5
            }
            reserved += share
        }
        return Int(reserved.rounded(.up))
    }

    /// Memory the kernel shows the kubelet (KiB): about 94% of the nominal size.
    public var memoryCapacityKiB: Int { memoryMiB * 1024 * 94 / 100 }

    /// The EKS AMI's kube-reserved memory (255 MiB + 11 MiB per pod) plus the 100 MiB eviction threshold, in KiB.
    public func reservedMemoryKiB(maxPods: Int) -> Int { (255 + 11 * maxPods + 100) * 1024 }

    public static func named(_ name: String) -> InstanceType? { table[name] }

    static let table: [String: InstanceType] = {
        var table: [String: InstanceType] = [:]
        // name, vCPUs, memory GiB, ENIs, IPv4 per ENI
        let rows: [(String, Int, Double, Int, Int)] = [
            ("t3.nano", 2, 0.5, 2, 2), ("t3.micro", 2, 1, 2, 2), ("t3.small", 2, 2, 3, 4), ("t3.medium", 2, 4, 3, 6),
            ("t3.large", 2, 8, 3, 12), ("t3.xlarge", 4, 16, 4, 15), ("t3.2xlarge", 8, 32, 4, 15),
            ("t3a.nano", 2, 0.5, 2, 2), ("t3a.micro", 2, 1, 2, 2), ("t3a.small", 2, 2, 2, 4), ("t3a.medium", 2, 4, 3, 6),
            ("t3a.large", 2, 8, 3, 12), ("t3a.xlarge", 4, 16, 4, 15), ("t3a.2xlarge", 8, 32, 4, 15),
            ("m5.large", 2, 8, 3, 10), ("m5.xlarge", 4, 16, 4, 15), ("m5.2xlarge", 8, 32, 4, 15), ("m5.4xlarge", 16, 64, 8, 30),
            ("m5.8xlarge", 32, 128, 8, 30), ("m5.12xlarge", 48, 192, 8, 30), ("m5.16xlarge", 64, 256, 15, 50),
            ("m5.24xlarge", 96, 384, 15, 50), ("m5.metal", 96, 384, 15, 50),
            ("m6i.large", 2, 8, 3, 10), ("m6i.xlarge", 4, 16, 4, 15), ("m6i.2xlarge", 8, 32, 4, 15), ("m6i.4xlarge", 16, 64, 8, 30),
            ("m6i.8xlarge", 32, 128, 8, 30), ("m6i.12xlarge", 48, 192, 8, 30), ("m6i.16xlarge", 64, 256, 15, 50),
            ("m6i.24xlarge", 96, 384, 15, 50), ("m6i.32xlarge", 128, 512, 15, 50), ("m6i.metal", 128, 512, 15, 50),
            ("m7i.large", 2, 8, 3, 10), ("m7i.xlarge", 4, 16, 4, 15), ("m7i.2xlarge", 8, 32, 4, 15), ("m7i.4xlarge", 16, 64, 8, 30),
            ("m7i.8xlarge", 32, 128, 8, 30), ("m7i.12xlarge", 48, 192, 8, 30), ("m7i.16xlarge", 64, 256, 15, 50),
            ("m7i.24xlarge", 96, 384, 15, 50), ("m7i.48xlarge", 192, 768, 15, 50), ("m7i.metal-24xl", 96, 384, 15, 50),
            ("m7i.metal-48xl", 192, 768, 15, 50),
            ("c5.large", 2, 4, 3, 10), ("c5.xlarge", 4, 8, 4, 15), ("c5.2xlarge", 8, 16, 4, 15), ("c5.4xlarge", 16, 32, 8, 30),
            ("c5.9xlarge", 36, 72, 8, 30), ("c5.12xlarge", 48, 96, 8, 30), ("c5.18xlarge", 72, 144, 15, 50),
            ("c5.24xlarge", 96, 192, 15, 50), ("c5.metal", 96, 192, 15, 50),
            ("c6i.large", 2, 4, 3, 10), ("c6i.xlarge", 4, 8, 4, 15), ("c6i.2xlarge", 8, 16, 4, 15), ("c6i.4xlarge", 16, 32, 8, 30),
            ("c6i.8xlarge", 32, 64, 8, 30), ("c6i.12xlarge", 48, 96, 8, 30), ("c6i.16xlarge", 64, 128, 15, 50),
            ("c6i.24xlarge", 96, 192, 15, 50), ("c6i.32xlarge", 128, 256, 15, 50), ("c6i.metal", 128, 256, 15, 50),
            ("r5.large", 2, 16, 3, 10), ("r5.xlarge", 4, 32, 4, 15), ("r5.2xlarge", 8, 64, 4, 15), ("r5.4xlarge", 16, 128, 8, 30),
            ("r5.8xlarge", 32, 256, 8, 30), ("r5.12xlarge", 48, 384, 8, 30), ("r5.16xlarge", 64, 512, 15, 50),
            ("r5.24xlarge", 96, 768, 15, 50), ("r5.metal", 96, 768, 15, 50),
            ("r6i.large", 2, 16, 3, 10), ("r6i.xlarge", 4, 32, 4, 15), ("r6i.2xlarge", 8, 64, 4, 15), ("r6i.4xlarge", 16, 128, 8, 30),
            ("r6i.8xlarge", 32, 256, 8, 30), ("r6i.12xlarge", 48, 384, 8, 30), ("r6i.16xlarge", 64, 512, 15, 50),
            ("r6i.24xlarge", 96, 768, 15, 50), ("r6i.32xlarge", 128, 1024, 15, 50), ("r6i.metal", 128, 1024, 15, 50),
        ]
        for (name, vCPUs, memory, interfaces, addresses) in rows {
            table[name] = InstanceType(name: name, vCPUs: vCPUs, memoryMiB: Int(memory * 1024), maxNetworkInterfaces: interfaces,
                                       ipv4PerInterface: addresses)
        }
        return table
    }()
}
