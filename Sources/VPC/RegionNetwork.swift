import Foundation
import RegionStore

/// The region's EC2 network: VPCs, subnets, security groups and zones.
///
/// Operations that other domains compose into their own transactions (EKS
/// checks subnets and makes a cluster security group while it creates a
/// cluster) take a `RecordTransaction`; the rest open their own.
public struct RegionNetwork: Sendable {
    public let region: Region
    let database: RegionDatabase

    /// The default VPC's block, as in every AWS account.
    public static let defaultVPCBlock = IPv4CIDR("172.31.0.0/16")!

    public init(database: RegionDatabase, region: Region) {
        self.database = database
        self.region = region
    }

    // MARK: Default VPC

    /// Creates the default VPC, with one /20 default subnet per zone and a default security group, on first start.
    public func ensureDefaultVPC() async throws {
        try await database.write { tx in
            guard try tx.all(VPCRecord.self).contains(where: \.isDefault) == false else { return }
            let vpc = try insertVPC(tx, cidr: Self.defaultVPCBlock, isDefault: true, tags: [])
            for (index, zone) in region.availabilityZones.enumerated() {
                let cidr = IPv4CIDR(network: Self.defaultVPCBlock.network + UInt32(index) << 12, prefixLength: 20)
                try insertSubnet(tx, vpcId: vpc.vpcId, cidr: cidr, zone: zone, isDefault: true, tags: [])
            }
        }
    }

    // MARK: VPCs

    public func describeVpcs(ids: [String], filters: [EC2Filter], maxResults: Int?,
                             nextToken: String?) async throws -> EC2Page<VPCRecord> {
        try await database.read { reader in
            let vpcs = try Self.select(try reader.all(VPCRecord.self), ids: ids, id: \.vpcId, kind: "vpc")
            return try EC2Paging.page(try EC2Filtering.apply(filters, to: vpcs), id: \.vpcId,
                                      maxResults: maxResults, nextToken: nextToken)
        }
    }

    public func createVpc(cidrBlock: String?, tags: [Tag]) async throws -> VPCRecord {
        guard let cidrBlock else { throw EC2Error.missingParameter("CidrBlock") }
        // AWS allows VPC blocks from /16 to /28.
        guard let cidr = IPv4CIDR(cidrBlock), (16...28).contains(cidr.prefixLength) else {
            throw EC2Error("InvalidVpc.Range", "The CIDR '\(cidrBlock)' is invalid.")
        }
        return try await database.write { tx in try insertVPC(tx, cidr: cidr, isDefault: false, tags: tags) }
    }

    public func deleteVpc(id: String) async throws {
        try await database.write { tx in
            guard try tx.get(VPCRecord.self, id) != nil else { throw EC2Error.notFound("vpc", id) }
            let groups = try tx.all(SecurityGroupRecord.self).filter { $0.vpcId == id }
            let dependents = try tx.all(SubnetRecord.self).contains { $0.vpcId == id }
                || groups.contains { $0.groupName != "default" }
            guard !dependents else {
                throw EC2Error("DependencyViolation", "The vpc '\(id)' has dependencies and cannot be deleted.")
            }
            for group in groups { try tx.delete(SecurityGroupRecord.self, group.groupId) }
            try tx.delete(VPCRecord.self, id)
        }
    }

    private func insertVPC(_ tx: RecordTransaction, cidr: IPv4CIDR, isDefault: Bool, tags: [Tag]) throws -> VPCRecord {
        let vpc = VPCRecord(vpcId: ResourceID.make("vpc"), cidrBlock: cidr,
                            cidrAssociationId: ResourceID.make("vpc-cidr-assoc"),
                            dhcpOptionsId: ResourceID.make("dopt"), isDefault: isDefault,
                            ownerId: region.account, tags: tags)
        try tx.insert(vpc)
        let defaultRules = (ingress: [SecurityGroupRule(ipProtocol: "-1", fromPort: nil, toPort: nil, cidrRanges: [], groupIds: [])],
                            egress: [SecurityGroupRule(ipProtocol: "-1", fromPort: nil, toPort: nil, cidrRanges: ["0.0.0.0/0"], groupIds: [])])
        let group = try createSecurityGroup(tx, vpcId: vpc.vpcId, name: "default",
                                            description: "default VPC security group", tags: [])
        // The default group admits traffic from its own members.
        var selfReferencing = group
        selfReferencing.ingress = [SecurityGroupRule(ipProtocol: "-1", fromPort: nil, toPort: nil,
                                                     cidrRanges: [], groupIds: [group.groupId])]
        selfReferencing.egress = defaultRules.egress
        try tx.save(selfReferencing)
        return vpc
    }

    // MARK: Subnets

    public func describeSubnets(ids: [String], filters: [EC2Filter], maxResults: Int?,
                                nextToken: String?) async throws -> EC2Page<SubnetRecord> {
        try await database.read { reader in
            let subnets = try Self.select(try reader.all(SubnetRecord.self), ids: ids, id: \.subnetId, kind: "subnet")
            return try EC2Paging.page(try EC2Filtering.apply(filters, to: subnets), id: \.subnetId,
                                      maxResults: maxResults, nextToken: nextToken)
        }
    }

    public func createSubnet(vpcId: String?, cidrBlock: String?, availabilityZone: String?,
                             availabilityZoneId: String?, tags: [Tag]) async throws -> SubnetRecord {
        guard let vpcId else { throw EC2Error.missingParameter("VpcId") }
        guard let cidrBlock else { throw EC2Error.missingParameter("CidrBlock") }
        let zone = try chooseZone(name: availabilityZone, id: availabilityZoneId)
        return try await database.write { tx in
            guard let vpc = try tx.get(VPCRecord.self, vpcId) else { throw EC2Error.notFound("vpc", vpcId) }
            // A subnet is /16 to /28 and lies inside its VPC's block.
            guard let cidr = IPv4CIDR(cidrBlock), (16...28).contains(cidr.prefixLength), vpc.cidrBlock.contains(cidr) else {
                throw EC2Error("InvalidSubnet.Range", "The CIDR '\(cidrBlock)' is invalid.")
            }
            if try tx.all(SubnetRecord.self).contains(where: { $0.vpcId == vpcId && $0.cidrBlock.overlaps(cidr) }) {
                throw EC2Error("InvalidSubnet.Conflict", "The CIDR '\(cidrBlock)' conflicts with another subnet")
            }
            return try insertSubnet(tx, vpcId: vpcId, cidr: cidr, zone: zone, isDefault: false, tags: tags)
        }
    }

    private func chooseZone(name: String?, id: String?) throws(EC2Error) -> AvailabilityZone {
        let names = region.availabilityZones.map(\.name).joined(separator: ", ")
        if let name {
            guard let zone = region.zone(named: name) else {
                throw EC2Error("InvalidParameterValue",
                               "Value (\(name)) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: \(names).")
            }
            if let id, zone.id != id {
                throw EC2Error("InvalidParameterCombination", "The parameters AvailabilityZone and AvailabilityZoneId do not name the same zone.")
            }
            return zone
        }
        if let id {
            guard let zone = region.zone(id: id) else {
                throw EC2Error("InvalidParameterValue",
                               "Value (\(id)) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zones: \(names).")
            }
            return zone
        }
        return region.availabilityZones.randomElement()!
    }

    @discardableResult
    private func insertSubnet(_ tx: RecordTransaction, vpcId: String, cidr: IPv4CIDR, zone: AvailabilityZone,
                              isDefault: Bool, tags: [Tag]) throws -> SubnetRecord {
        let id = ResourceID.make("subnet")
        let subnet = SubnetRecord(subnetId: id, vpcId: vpcId, cidrBlock: cidr, availabilityZone: zone.name,
                                  availabilityZoneId: zone.id, defaultForAz: isDefault, mapPublicIpOnLaunch: isDefault,
                                  ownerId: region.account,
                                  subnetArn: "arn:aws:ec2:\(region.name):\(region.account):subnet/\(id)",
                                  tags: tags, usedAddresses: 0)
        try tx.insert(subnet)
        return subnet
    }

    public func deleteSubnet(id: String?) async throws {
        guard let id else { throw EC2Error.missingParameter("SubnetId") }
        try await database.write { tx in
            guard let subnet = try tx.get(SubnetRecord.self, id) else { throw EC2Error.notFound("subnet", id) }
            guard try tx.count(SubnetAttachment.self, keyPrefix: id + "/") == 0, subnet.attachedResources?.isEmpty ?? true else {
                throw EC2Error("DependencyViolation", "The subnet '\(id)' has dependencies and cannot be deleted.")
            }
            try tx.delete(SubnetRecord.self, id)
        }
    }

    /// The subnets with these ids, in the order given; throws for the first unknown id.
    public func subnets(_ tx: RecordTransaction, ids: [String]) throws -> [SubnetRecord] {
        try ids.map { id in
            guard let subnet = try tx.get(SubnetRecord.self, id) else { throw EC2Error.notFound("subnet", id) }
            return subnet
        }
    }

    /// Records that `resourceArn` has network interfaces in these subnets.
    public func attach(_ tx: RecordTransaction, subnetIds: [String], to resourceArn: String) throws {
        for subnet in try subnets(tx, ids: subnetIds) {
            try tx.save(SubnetAttachment(subnetId: subnet.subnetId, resourceArn: resourceArn))
        }
    }

    /// Releases what `attach` recorded; subnets already gone are skipped.
    public func detach(_ tx: RecordTransaction, subnetIds: [String], from resourceArn: String) throws {
        for id in subnetIds {
            try tx.delete(SubnetAttachment.self, SubnetAttachment.key(subnetId: id, resourceArn: resourceArn))
            if var subnet = try tx.get(SubnetRecord.self, id), subnet.attachedResources?.contains(resourceArn) == true {
                subnet.attachedResources?.removeAll { $0 == resourceArn }
                try tx.save(subnet)
            }
        }
    }

    // MARK: Security groups

    public func describeSecurityGroups(ids: [String], names: [String], filters: [EC2Filter], maxResults: Int?,
                                       nextToken: String?) async throws -> EC2Page<SecurityGroupRecord> {
        try await database.read { reader in
            var groups = try Self.select(try reader.all(SecurityGroupRecord.self), ids: ids, id: \.groupId, kind: "sg")
            if !names.isEmpty {
                // Names alone look in the default VPC, as EC2 does.
                let defaultVPC = try reader.all(VPCRecord.self).first(where: \.isDefault)?.vpcId
                groups = try names.map { name in
                    guard let group = groups.first(where: { $0.groupName == name && (!ids.isEmpty || $0.vpcId == defaultVPC) }) else {
                        throw EC2Error("InvalidGroup.NotFound",
                                       "The security group '\(name)' does not exist in default VPC '\(defaultVPC ?? "none")'")
                    }
                    return group
                }
            }
            return try EC2Paging.page(try EC2Filtering.apply(filters, to: groups), id: \.groupId,
                                      maxResults: maxResults, nextToken: nextToken)
        }
    }

    public func securityGroups(_ tx: RecordTransaction, ids: [String]) throws -> [SecurityGroupRecord] {
        try ids.map { id in
            guard let group = try tx.get(SecurityGroupRecord.self, id) else { throw EC2Error.notFound("sg", id) }
            return group
        }
    }

    public func createSecurityGroup(_ tx: RecordTransaction, vpcId: String, name: String, description: String,
                                    tags: [Tag]) throws -> SecurityGroupRecord {
        let id = ResourceID.make("sg")
        let group = SecurityGroupRecord(
            groupId: id, groupName: name, description: description, vpcId: vpcId, ownerId: region.account,
            securityGroupArn: "arn:aws:ec2:\(region.name):\(region.account):security-group/\(id)",
            ingress: [], egress: [SecurityGroupRule(ipProtocol: "-1", fromPort: nil, toPort: nil,
                                                    cidrRanges: ["0.0.0.0/0"], groupIds: [])],
            tags: tags)
        try tx.insert(group)
        return group
    }

    public func deleteSecurityGroup(_ tx: RecordTransaction, id: String) throws {
        try tx.delete(SecurityGroupRecord.self, id)
    }

    // MARK: Zones

    public func describeAvailabilityZones(names: [String], ids: [String], filters: [EC2Filter]) throws(EC2Error) -> [AvailabilityZone] {
        for name in names where region.zone(named: name) == nil {
            throw EC2Error("InvalidParameterValue", "Invalid availability zone: [\(name)]")
        }
        for id in ids where region.zone(id: id) == nil {
            throw EC2Error("InvalidParameterValue", "Invalid availability zone: [\(id)]")
        }
        for filter in filters where region.availabilityZones[0].values(forFilter: filter.name, region: region.name) == nil {
            throw EC2Error("InvalidParameterValue", "The filter '\(filter.name)' is invalid")
        }
        return region.availabilityZones.filter { zone in
            (names.isEmpty || names.contains(zone.name)) && (ids.isEmpty || ids.contains(zone.id))
                && filters.allSatisfy { filter in
                    let have = zone.values(forFilter: filter.name, region: region.name) ?? []
                    return filter.values.contains { pattern in have.contains { EC2Filtering.wildcardMatch(pattern, $0) } }
                }
        }
    }

    // MARK: Shared

    /// Narrows to `ids` when given, failing on the first id that does not exist.
    static func select<R>(_ records: [R], ids: [String], id: (R) -> String, kind: String) throws(EC2Error) -> [R] {
        guard !ids.isEmpty else { return records }
        var selected: [R] = []
        for wanted in ids {
            guard let record = records.first(where: { id($0) == wanted }) else { throw EC2Error.notFound(kind, wanted) }
            selected.append(record)
        }
        return selected
    }
}
