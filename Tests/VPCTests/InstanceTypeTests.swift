import Testing
@testable import VPC

struct InstanceTypeTests {
    @Test(arguments: [
        // As the VPC CNI's published eni-max-pods table lists them.
        ("t3.nano", 4), ("t3.micro", 4), ("t3.small", 11), ("t3.medium", 17), ("t3.large", 35), ("t3.xlarge", 58), ("t3.2xlarge", 58),
        ("t3a.small", 8), ("m5.large", 29), ("m5.xlarge", 58), ("m5.4xlarge", 234), ("m5.16xlarge", 737), ("m6i.32xlarge", 737),
        ("m7i.48xlarge", 737), ("c5.large", 29), ("c5.9xlarge", 234), ("c5.18xlarge", 737), ("c6i.8xlarge", 234), ("r5.large", 29),
        ("r6i.metal", 737),
    ])
    func maxPodsAreTheVPCCNIs(type: String, pods: Int) throws {
        #expect(try #require(InstanceType.named(type)).maxPods == pods)
    }

    @Test func prefixDelegationRaisesMaxPodsToTheAMIsCaps() throws {
        #expect(try #require(InstanceType.named("t3.medium")).maxPodsWithPrefixDelegation == 110)
        #expect(try #require(InstanceType.named("t3.nano")).maxPodsWithPrefixDelegation == 34)
        #expect(try #require(InstanceType.named("m5.8xlarge")).maxPodsWithPrefixDelegation == 250)
    }

    @Test func allocatableIsWhatTheEKSAMILeaves() throws {
        let medium = try #require(InstanceType.named("t3.medium"))
        #expect(medium.reservedMillicores == 70)
        // 255 MiB + 11 MiB × 17 pods + 100 MiB eviction threshold.
        #expect(medium.reservedMemoryKiB(maxPods: 17) == 542 * 1024)
        #expect(try #require(InstanceType.named("m5.4xlarge")).reservedMillicores == 110)
    }
}
