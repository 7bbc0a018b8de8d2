import Foundation
import RegionStore

/// An EC2 instance, as `DescribeInstances` shows it. Managed node groups launch them; each holds its
/// primary address and the secondary addresses its pods take (the VPC CNI's) from its subnet.
public struct InstanceRecord: StoredRecord, Equatable {
    public static let kind = "ec2.instance"
    public var storeKey: String { instanceId }

    public enum State: String, Codable, Sendable {
        case pending, running, shuttingDown = "shutting-down", terminated, stopping, stopped

        /// EC2's state code.
        public var code: Int {
            switch self {
            case .pending: 0
            case .running: 16
            case .shuttingDown: 32
            case .terminated: 48
            case .stopping: 64
            case .stopped: 80
            }
        }
    }

    public let instanceId: String
    public let instanceType: String
    public let imageId: String
    public let subnetId: String
    public let vpcId: String
    public let availabilityZone: String
    public let privateIpAddress: String
    /// Secondary addresses for pods, on the instance's network interfaces.
    public var podAddresses: [String]
    public let securityGroupIds: [String]
    public let launchTime: Date
    public var state: State
    public var stateTransitionReason: String
    public var tags: [Tag]

    /// `ip-172-31-5-20.ec2.internal` (`ip-…​.REGION.compute.internal` outside us-east-1).
    public func privateDnsName(region: String) -> String {
        let host = "ip-" + privateIpAddress.replacingOccurrences(of: ".", with: "-")
        return region == "us-east-1" ? "\(host).ec2.internal" : "\(host).\(region).compute.internal"
    }

    public func tag(_ key: String) -> String? { tags.first { $0.key == key }?.value }
}

/// The addresses taken in one subnet, by offset from its network address.
struct SubnetAddressesRecord: StoredRecord, Equatable {
    static let kind = "ec2.subnetAddresses"
    var storeKey: String { subnetId }

    let subnetId: String
    var taken: Set<Int>
}

extension RegionNetwork {
    /// Takes `count` free addresses of the subnet, chosen at random as EC2 chooses; throws
    /// `InsufficientFreeAddressesInSubnet` (and takes none) if it has fewer.
    public func allocateAddresses(_ tx: RecordTransaction, subnetId: String, count: Int) throws -> [String] {
        guard count > 0 else { return [] }
        guard var subnet = try tx.get(SubnetRecord.self, subnetId) else { throw EC2Error.notFound("subnet", subnetId) }
        guard subnet.availableIpAddressCount >= count else {
            throw EC2Error("InsufficientFreeAddressesInSubnet",
                           "There are not enough free addresses in subnet '\(subnetId)' to satisfy the requested number of instances.")
        }
        var record = try tx.get(SubnetAddressesRecord.self, subnetId) ?? SubnetAddressesRecord(subnetId: subnetId, taken: [])
        // AWS keeps the first four and the last address of every subnet.
        let usable = 4..<(subnet.cidrBlock.addressCount - 1)
        var chosen: [Int] = []
        var offset = Int.random(in: usable)
        while chosen.count < count {
            if !record.taken.contains(offset) {
                record.taken.insert(offset)
                chosen.append(offset)
            }
            offset = offset + 1 < usable.upperBound ? offset + 1 : usable.lowerBound
        }
        subnet.usedAddresses += count
        try tx.save(subnet)
        try tx.save(record)
        return chosen.map { IPv4CIDR.formatAddress(subnet.cidrBlock.network + UInt32($0)) }
    }

    /// Gives addresses back to their subnet.
    public func releaseAddresses(_ tx: RecordTransaction, subnetId: String, addresses: [String]) throws {
        guard var subnet = try tx.get(SubnetRecord.self, subnetId), var record = try tx.get(SubnetAddressesRecord.self, subnetId) else { return }
        var released = 0
        for address in addresses {
            guard let value = IPv4CIDR.parseAddress(Substring(address)), subnet.cidrBlock.contains(IPv4CIDR(network: value, prefixLength: 32)) else { continue }
            if record.taken.remove(Int(value - subnet.cidrBlock.network)) != nil { released += 1 }
        }
        subnet.usedAddresses = max(0, subnet.usedAddresses - released)
        try tx.save(subnet)
        try tx.save(record)
    }

    /// Launches instances of one type into a subnet, each with its primary address and `podAddresses`
    /// secondary ones; all or none.
    public func launchInstances(_ tx: RecordTransaction, count: Int, instanceType: String, imageId: String, subnetId: String,
                                securityGroupIds: [String], podAddresses: Int, tags: [Tag], now: Date = Date()) throws -> [InstanceRecord] {
        guard let subnet = try tx.get(SubnetRecord.self, subnetId) else { throw EC2Error.notFound("subnet", subnetId) }
        guard subnet.availableIpAddressCount >= count * (1 + podAddresses) else {
            throw EC2Error("InsufficientFreeAddressesInSubnet",
                           "There are not enough free addresses in subnet '\(subnetId)' to satisfy the requested number of instances.")
        }
        var launched: [InstanceRecord] = []
        for _ in 0..<count {
            let addresses = try allocateAddresses(tx, subnetId: subnetId, count: 1 + podAddresses)
            let instance = InstanceRecord(instanceId: ResourceID.make("i"), instanceType: instanceType, imageId: imageId, subnetId: subnetId,
                                          vpcId: subnet.vpcId, availabilityZone: subnet.availabilityZone, privateIpAddress: addresses[0],
                                          podAddresses: Array(addresses.dropFirst()), securityGroupIds: securityGroupIds, launchTime: now,
                                          state: .running, stateTransitionReason: "", tags: tags)
            try tx.save(instance)
            launched.append(instance)
        }
        return launched
    }

    /// Terminates instances: their addresses go back to their subnets; they stay visible as `terminated`.
    public func terminateInstances(_ tx: RecordTransaction, ids: [String], reason: String = "User initiated") throws -> [InstanceRecord] {
        try ids.map { id in
            guard var instance = try tx.get(InstanceRecord.self, id) else { throw EC2Error.notFound("instance", id) }
            guard instance.state != .terminated else { return instance }
            try releaseAddresses(tx, subnetId: instance.subnetId, addresses: [instance.privateIpAddress] + instance.podAddresses)
            instance.podAddresses = []
            instance.state = .terminated
            instance.stateTransitionReason = "\(reason) (\(Timestamps.ec2(Date())))"
            try tx.save(instance)
            return instance
        }
    }

    public func instances(_ reader: RecordReader, tagged key: String, _ value: String) throws -> [InstanceRecord] {
        try reader.all(InstanceRecord.self).filter { $0.tag(key) == value }
    }

    public func describeInstances(ids: [String], filters: [EC2Filter], maxResults: Int?, nextToken: String?) async throws -> EC2Page<InstanceRecord> {
        try await database.read { reader in
            let all = try reader.all(InstanceRecord.self).sorted { ($0.launchTime, $0.instanceId) < ($1.launchTime, $1.instanceId) }
            let selected = try Self.select(all, ids: ids, id: \.instanceId, kind: "instance")
            return try EC2Paging.page(try EC2Filtering.apply(filters, to: selected.map { FilterableInstance(instance: $0, region: region.name) })
                .map(\.instance), id: \.instanceId, maxResults: maxResults, nextToken: nextToken)
        }
    }

    public func terminateInstances(ids: [String]) async throws -> [InstanceRecord] {
        guard !ids.isEmpty else { throw EC2Error.missingParameter("InstanceId") }
        return try await database.write { tx in try terminateInstances(tx, ids: ids) }
    }
}

/// An instance with the region its DNS name needs, for filters.
struct FilterableInstance: EC2Filterable {
    let instance: InstanceRecord
    let region: String
    var tags: [Tag] { instance.tags }

    func values(forFilter filter: String) -> [String]? {
        switch filter {
        case "instance-id": [instance.instanceId]
        case "instance-type": [instance.instanceType]
        case "instance-state-name": [instance.state.rawValue]
        case "instance-state-code": [String(instance.state.code)]
        case "subnet-id": [instance.subnetId]
        case "vpc-id": [instance.vpcId]
        case "availability-zone": [instance.availabilityZone]
        case "private-ip-address": [instance.privateIpAddress]
        case "private-dns-name": [instance.privateDnsName(region: region)]
        case "image-id": [instance.imageId]
        case "instance.group-id": instance.securityGroupIds
        default: nil
        }
    }
}

enum Timestamps {
    /// `2026-12-01 09:15:36 GMT`, as EC2 writes times into reasons.
    static func ec2(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
