import Foundation
import RegionStore
import Testing
@testable import VPC

struct RegionNetworkTests {
    let network: RegionNetwork
    let database: RegionDatabase

    init() async throws {
        database = try RegionDatabase(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-vpc-\(UUID())"))
        network = RegionNetwork(database: database, region: Region(name: "us-east-1", account: "000000000000"))
        try await network.ensureDefaultVPC()
    }

    @Test func defaultVPCHasASubnetPerZoneAndADefaultGroup() async throws {
        try await network.ensureDefaultVPC()
        let vpcs = try await network.describeVpcs(ids: [], filters: [], maxResults: nil, nextToken: nil).items
        #expect(vpcs.count == 1)
        #expect(vpcs[0].isDefault && vpcs[0].cidrBlock.description == "172.31.0.0/16")
        let subnets = try await network.describeSubnets(ids: [], filters: [EC2Filter(name: "default-for-az", values: ["true"])],
                                                        maxResults: nil, nextToken: nil).items
        #expect(subnets.map(\.cidrBlock.description) == ["172.31.0.0/20", "172.31.16.0/20", "172.31.32.0/20"])
        #expect(subnets.map(\.availabilityZone) == ["us-east-1a", "us-east-1b", "us-east-1c"])
        #expect(subnets.allSatisfy { $0.availableIpAddressCount == 4091 })
        let groups = try await network.describeSecurityGroups(ids: [], names: ["default"], filters: [], maxResults: nil, nextToken: nil)
        #expect(groups.items.first?.vpcId == vpcs[0].vpcId)
    }

    @Test func subnetsMustFitTheirVPCAndNotOverlap() async throws {
        let vpc = try await network.createVpc(cidrBlock: "10.0.0.0/16", tags: [Tag(key: "Name", value: "lab")])
        let subnet = try await network.createSubnet(vpcId: vpc.vpcId, cidrBlock: "10.0.1.0/24", availabilityZone: "us-east-1b",
                                                    availabilityZoneId: nil, tags: [])
        #expect(subnet.availabilityZoneId == "use1-az2")
        await #expect(throws: EC2Error("InvalidSubnet.Conflict", "The CIDR '10.0.1.0/25' conflicts with another subnet")) {
            try await network.createSubnet(vpcId: vpc.vpcId, cidrBlock: "10.0.1.0/25", availabilityZone: nil, availabilityZoneId: nil, tags: [])
        }
        await #expect(throws: EC2Error("InvalidSubnet.Range", "The CIDR '10.1.0.0/24' is invalid.")) {
            try await network.createSubnet(vpcId: vpc.vpcId, cidrBlock: "10.1.0.0/24", availabilityZone: nil, availabilityZoneId: nil, tags: [])
        }
        await #expect(throws: EC2Error.notFound("vpc", "vpc-nope")) {
            try await network.createSubnet(vpcId: "vpc-nope", cidrBlock: "10.0.2.0/24", availabilityZone: nil, availabilityZoneId: nil, tags: [])
        }
        await #expect(throws: EC2Error.self) {
            try await network.createSubnet(vpcId: vpc.vpcId, cidrBlock: "10.0.2.0/24", availabilityZone: "us-east-1z",
                                           availabilityZoneId: nil, tags: [])
        }
        let tagged = try await network.describeVpcs(ids: [], filters: [EC2Filter(name: "tag:Name", values: ["la*"])],
                                                    maxResults: nil, nextToken: nil)
        #expect(tagged.items.map(\.vpcId) == [vpc.vpcId])
    }

    @Test func attachedSubnetCannotBeDeleted() async throws {
        let subnet = try await network.describeSubnets(ids: [], filters: [], maxResults: nil, nextToken: nil).items[0]
        try await database.write { [network] tx in try network.attach(tx, subnetIds: [subnet.subnetId], to: "arn:test") }
        await #expect(throws: EC2Error("DependencyViolation", "The subnet '\(subnet.subnetId)' has dependencies and cannot be deleted.")) {
            try await network.deleteSubnet(id: subnet.subnetId)
        }
        try await database.write { [network] tx in try network.detach(tx, subnetIds: [subnet.subnetId], from: "arn:test") }
        try await network.deleteSubnet(id: subnet.subnetId)
        await #expect(throws: EC2Error.notFound("subnet", subnet.subnetId)) { try await network.deleteSubnet(id: subnet.subnetId) }
    }

    @Test func describeCallsPageAndRejectUnknownFiltersAndIds() async throws {
        await #expect(throws: EC2Error.notFound("subnet", "subnet-nope")) {
            try await network.describeSubnets(ids: ["subnet-nope"], filters: [], maxResults: nil, nextToken: nil)
        }
        await #expect(throws: EC2Error("InvalidParameterValue", "The filter 'colour' is invalid")) {
            try await network.describeSubnets(ids: [], filters: [EC2Filter(name: "colour", values: ["red"])], maxResults: nil, nextToken: nil)
        }
        let vpc = try await network.createVpc(cidrBlock: "10.0.0.0/16", tags: [])
        for index in 0..<4 {
            _ = try await network.createSubnet(vpcId: vpc.vpcId, cidrBlock: "10.0.\(index).0/24", availabilityZone: nil,
                                               availabilityZoneId: nil, tags: [])
        }
        let first = try await network.describeSubnets(ids: [], filters: [], maxResults: 5, nextToken: nil)
        let second = try await network.describeSubnets(ids: [], filters: [], maxResults: 5, nextToken: first.nextToken)
        #expect(first.items.count == 5 && first.nextToken != nil)
        #expect(second.items.count == 2 && second.nextToken == nil)
        #expect(Set((first.items + second.items).map(\.subnetId)).count == 7)
        await #expect(throws: EC2Error.self) {
            try await network.describeSubnets(ids: [], filters: [], maxResults: 4, nextToken: nil)
        }
    }
}
