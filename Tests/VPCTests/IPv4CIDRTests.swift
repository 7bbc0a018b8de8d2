import Testing
@testable import VPC

struct IPv4CIDRTests {
    @Test func parsesOnlyNetworkAddresses() {
        #expect(IPv4CIDR("172.31.0.0/16")?.description == "172.31.0.0/16")
        #expect(IPv4CIDR("172.31.0.1/16") == nil)
        #expect(IPv4CIDR("10.0.0.0/33") == nil)
        #expect(IPv4CIDR("10.0.0/8") == nil)
        #expect(IPv4CIDR("256.0.0.0/8") == nil)
        #expect(IPv4CIDR("10.0.0.0") == nil)
    }

    @Test func containsAndOverlaps() throws {
        let vpc = try #require(IPv4CIDR("10.0.0.0/16"))
        let inside = try #require(IPv4CIDR("10.0.4.0/24"))
        let outside = try #require(IPv4CIDR("10.1.0.0/24"))
        #expect(vpc.contains(inside))
        #expect(!inside.contains(vpc))
        #expect(!vpc.contains(outside))
        #expect(vpc.overlaps(inside) && inside.overlaps(vpc))
        #expect(!vpc.overlaps(outside))
        #expect(inside.addressCount == 256)
    }

    @Test func zoneIdsFollowAWSNaming() {
        #expect(Region(name: "us-east-1", account: "1").availabilityZones.map(\.id) == ["use1-az1", "use1-az2", "use1-az3"])
        #expect(Region.zoneIdPrefix("ap-southeast-2") == "apse2")
        #expect(Region.zoneIdPrefix("eu-central-1") == "euc1")
    }

    @Test func wildcardsMatchAsEC2Filters() {
        #expect(EC2Filtering.wildcardMatch("vpc-*", "vpc-123"))
        #expect(EC2Filtering.wildcardMatch("us-east-1?", "us-east-1a"))
        #expect(!EC2Filtering.wildcardMatch("us-east-1?", "us-east-1ab"))
        #expect(EC2Filtering.wildcardMatch("*", ""))
        #expect(!EC2Filtering.wildcardMatch("a*c", "abd"))
    }
}
