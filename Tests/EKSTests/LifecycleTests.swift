import Testing
@testable import EKS

struct LifecycleTests {
    @Test func clusterMovesThroughItsLifecycle() {
        #expect(ClusterStatus.CREATING.step(.provisioned) == .moveTo(.ACTIVE))
        #expect(ClusterStatus.ACTIVE.step(.updateRequested) == .moveTo(.UPDATING))
        #expect(ClusterStatus.UPDATING.step(.updateFinished) == .moveTo(.ACTIVE))
        #expect(ClusterStatus.ACTIVE.step(.deleteRequested) == .moveTo(.DELETING))
        #expect(ClusterStatus.FAILED.step(.deleteRequested) == .moveTo(.DELETING))
        #expect(ClusterStatus.DELETING.step(.deprovisioned) == .remove)
    }

    @Test func clusterRefusesWhatItsStatusForbids() {
        for (status, event) in [(ClusterStatus.UPDATING, LifecycleEvent.updateRequested), (.CREATING, .updateRequested),
                                (.CREATING, .deleteRequested), (.UPDATING, .deleteRequested), (.DELETING, .deleteRequested),
                                (.ACTIVE, .provisioned)] {
            guard case .refuse = status.step(event) else {
                Issue.record("\(status) accepted \(event)")
                continue
            }
        }
    }

    @Test func nodegroupMovesThroughItsLifecycle() {
        #expect(NodegroupStatus.CREATING.step(.provisioned) == .moveTo(.ACTIVE))
        #expect(NodegroupStatus.ACTIVE.step(.updateRequested) == .moveTo(.UPDATING))
        #expect(NodegroupStatus.UPDATING.step(.updateFinished) == .moveTo(.ACTIVE))
        #expect(NodegroupStatus.DEGRADED.step(.deleteRequested) == .moveTo(.DELETING))
        #expect(NodegroupStatus.DELETING.step(.deprovisioned) == .remove)
        if case .refuse = NodegroupStatus.UPDATING.step(.updateRequested) {} else { Issue.record("second update accepted") }
        if case .refuse = NodegroupStatus.CREATING.step(.deleteRequested) {} else { Issue.record("delete while creating accepted") }
    }

    @Test func loggingIsReportedInCanonicalForm() {
        let requested = Logging(clusterLogging: [LogSetup(types: [.audit, .api], enabled: true)])
        let canonical = Logging.canonical(enabled: requested.enabledTypes)
        #expect(canonical.clusterLogging == [LogSetup(types: [.api, .audit], enabled: true),
                                             LogSetup(types: [.authenticator, .controllerManager, .scheduler], enabled: false)])
        let off = Logging(clusterLogging: [LogSetup(types: [.api], enabled: false)])
        #expect(off.applied(to: [.api, .audit]) == [.audit])
        #expect(Logging.canonical(enabled: []).clusterLogging?.count == 1)
    }

    @Test func versionTableOffersTheSupportedMinors() {
        #expect(KubernetesVersions.default.version == "1.34")
        #expect(KubernetesVersions.all.map(\.version) == ["1.34", "1.33", "1.32", "1.31", "1.30", "1.29"])
        #expect(KubernetesVersions.all.filter { $0.support == .standard }.map(\.version) == ["1.34", "1.33", "1.32"])
        for version in KubernetesVersions.all {
            #expect(version.releaseDate < version.endOfStandardSupportDate)
            #expect(version.endOfStandardSupportDate < version.endOfExtendedSupportDate)
            #expect(version.patchVersion.hasPrefix(version.version + "."))
        }
    }

    @Test func scalingMustKeepMinDesiredMaxInOrder() throws {
        #expect(try EKSService.scaling(NodegroupScalingConfig(), over: nil, nodegroup: "n")
                == NodegroupScalingConfig(minSize: 1, maxSize: 2, desiredSize: 2))
        #expect(throws: EKSError.invalidParameter("Minimum capacity 3 can't be greater than desired size 2", nodegroup: "n")) {
            try EKSService.scaling(NodegroupScalingConfig(minSize: 3, maxSize: 5, desiredSize: 2), over: nil, nodegroup: "n")
        }
        #expect(throws: EKSError.invalidParameter("Desired capacity 6 can't be greater than max size 5", nodegroup: "n")) {
            try EKSService.scaling(NodegroupScalingConfig(minSize: 1, maxSize: 5, desiredSize: 6), over: nil, nodegroup: "n")
        }
        let current = NodegroupScalingConfig(minSize: 1, maxSize: 5, desiredSize: 2)
        #expect(try EKSService.scaling(NodegroupScalingConfig(desiredSize: 4), over: current, nodegroup: "n")
                == NodegroupScalingConfig(minSize: 1, maxSize: 5, desiredSize: 4))
    }
}
