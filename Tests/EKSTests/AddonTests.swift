import Foundation
import KubeModel
import RegionStore
import Synchronization
import Testing
import VPC
@testable import EKS

/// Add-ons against a real region database, with a host that answers applies as told.
struct AddonTests {
    final class AddonHost: ControlPlaneHost {
        let outcome = Mutex<AddonApplyOutcome>(.applied)
        let applied = Mutex<[AddonInstallation]>([])
        let removed = Mutex<[(String, Bool)]>([])
        func ensureRunning(_ spec: ControlPlaneSpec) async throws {}
        func remove(clusterName: String) async {}
        func keepOnly(clusterNames: Set<String>) async {}
        func updateAccess(clusterName: String, _ access: ClusterAccess) async {}
        func applyAddon(clusterName: String, _ addon: AddonInstallation) async -> AddonApplyOutcome {
            applied.withLock { $0.append(addon) }
            return outcome.withLock { $0 }
        }
        func removeAddon(clusterName: String, _ addon: AddonInstallation, preserve: Bool) async {
            removed.withLock { $0.append((addon.name, preserve)) }
        }
    }

    let eks: EKSService
    let host = AddonHost()
    static let later = Date().addingTimeInterval(1)

    init() async throws {
        let database = try RegionDatabase(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-addons-\(UUID())"))
        let region = Region(name: "us-east-1", account: "000000000000")
        let network = RegionNetwork(database: database, region: region)
        try await network.ensureDefaultVPC()
        eks = EKSService(database: database, network: network,
                         settings: EKSSettings(region: region, provisioningDelay: 0, clusterEndpoints: ClusterEndpoints(host: "127.0.0.1")),
                         controlPlanes: host)
        let subnets = try await network.describeSubnets(ids: [], filters: [], maxResults: nil, nextToken: nil).items.map(\.subnetId)
        _ = try await eks.createCluster(CreateClusterRequest(name: "demo", version: "1.33", roleArn: "arn:aws:iam::000000000000:role/eks",
                                                             resourcesVpcConfig: VpcConfigRequest(subnetIds: subnets)))
        try await eks.advanceDueTransitions(now: Self.later)
    }

    func create(_ name: String, version: String? = nil, configuration: String? = nil) async throws -> Addon {
        try await eks.createAddon(clusterName: "demo", CreateAddonRequest(addonName: name, addonVersion: version, configurationValues: configuration))
    }

    @Test func createPicksTheDefaultVersionAndAppliesConfiguration() async throws {
        let created = try await create("vpc-cni", configuration: "env:\n  ENABLE_PREFIX_DELEGATION: \"true\"\n")
        #expect(created.status == .CREATING)
        #expect(created.addonVersion == "v1.20.4-eksbuild.1")
        try await eks.advanceDueTransitions(now: Self.later)
        #expect(try await eks.describeAddon(clusterName: "demo", addonName: "vpc-cni").status == .ACTIVE)
        let applied = try #require(host.applied.withLock { $0.last })
        #expect(applied.configuration == ["env": ["ENABLE_PREFIX_DELEGATION": "true"]])
        #expect(applied.resolveConflicts == .NONE)
    }

    @Test func conflictsFailTheCreateAndTheUpdate() async throws {
        host.outcome.withLock { $0 = .conflicts("Conflicts found when trying to apply.") }
        _ = try await create("kube-proxy")
        try await eks.advanceDueTransitions(now: Self.later)
        let failed = try await eks.describeAddon(clusterName: "demo", addonName: "kube-proxy")
        #expect(failed.status == .CREATE_FAILED)
        #expect(failed.health.issues.map(\.code) == [.ConfigurationConflict])

        host.outcome.withLock { $0 = .applied }
        _ = try await eks.deleteAddon(clusterName: "demo", addonName: "kube-proxy", preserve: true)
        try await eks.advanceDueTransitions(now: Self.later)
        #expect(host.removed.withLock { $0.map(\.1) } == [true])
        _ = try await create("kube-proxy")
        try await eks.advanceDueTransitions(now: Self.later)

        host.outcome.withLock { $0 = .conflicts("Conflicts found when trying to apply.") }
        let update = try await eks.updateAddon(clusterName: "demo", addonName: "kube-proxy",
                                               UpdateAddonRequest(addonVersion: "v1.33.0-eksbuild.2"))
        #expect(try await eks.describeAddon(clusterName: "demo", addonName: "kube-proxy").status == .UPDATING)
        await #expect(throws: EKSError.self) {
            try await eks.updateAddon(clusterName: "demo", addonName: "kube-proxy", UpdateAddonRequest())
        }
        try await eks.advanceDueTransitions(now: Self.later)
        let finished = try await eks.describeUpdate(name: "demo", updateId: update.id, nodegroupName: nil, addonName: "kube-proxy")
        #expect(finished.status == .Failed)
        #expect(finished.errors.first?.errorCode == "ConfigurationConflict")
        let after = try await eks.describeAddon(clusterName: "demo", addonName: "kube-proxy")
        #expect(after.status == .ACTIVE)
        #expect(after.addonVersion == "v1.33.3-eksbuild.10")
    }

    @Test func refusedRequestsChangeNothing() async throws {
        await #expect(throws: EKSError.invalidParameter("Addon version specified is not supported", cluster: "demo").about(addon: "kube-proxy")) {
            try await create("kube-proxy", version: "v1.34.0-eksbuild.4")
        }
        await #expect(throws: EKSError.self) { try await create("coredns", configuration: "{\"replicaCount\": 0}") }
        await #expect(throws: EKSError.self) { try await create("nope") }
        #expect(try await eks.listAddons(clusterName: "demo", maxResults: nil, nextToken: nil).items.isEmpty)
    }

    @Test func schemaProblemsReadAsEKSReportsThem() throws {
        let schema = try #require(AddonCatalog.named("coredns")).configurationSchema
        #expect(throws: EKSError.invalidParameter(
            "ConfigurationValue provided in request is not supported: Json schema validation failed with error: "
            + "[$.replicaCount: must have a minimum value of 1, $.tolerations[0].operator: does not have a value in the enumeration [Exists, Equal], "
            + "$.unknown: is not defined in the schema and the schema does not allow additional properties]")) {
            try ConfigurationValues.parse(#"{"replicaCount": 0, "unknown": 1, "tolerations": [{"operator": "Maybe"}]}"#, schema: schema)
        }
        #expect(try ConfigurationValues.parse("replicaCount: 3\nresources:\n  limits:\n    memory: 256Mi\n", schema: schema)
                == ["replicaCount": 3, "resources": ["limits": ["memory": "256Mi"]]])
        #expect(try ConfigurationValues.parse("", schema: schema) == [:])
    }

    @Test func versionsFollowTheClusterVersion() throws {
        for version in KubernetesVersions.all.map(\.version) {
            for name in AddonCatalog.bootstrapped {
                let definition = try #require(AddonCatalog.named(name))
                let chosen = try #require(definition.defaultVersion(for: version))
                #expect(definition.version(chosen)?.clusterVersions.contains(version) == true, "\(name) \(version)")
            }
        }
        let page = try eks.describeAddonVersions(kubernetesVersion: "1.29", addonName: "kube-proxy", types: nil, publishers: nil, owners: nil,
                                                 maxResults: nil, nextToken: nil)
        #expect(page.items.first?.addonVersions.map(\.addonVersion) == ["v1.29.15-eksbuild.16", "v1.29.10-eksbuild.3"])
    }
}
