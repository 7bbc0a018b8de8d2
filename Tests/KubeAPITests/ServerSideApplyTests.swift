import Foundation
import KubeStore
import Testing
import KubeModel
@testable import KubeAPI

struct ServerSideApplyTests {
    let registry: Registry
    let deployments = ResourceTable.builtIn.find(group: "apps", version: "v1", resource: "deployments")!

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ssa-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path))
        try await ClusterBootstrap.run(registry)
    }

    func deployment(replicas: Int64, containers: [String], labels: JSON = ["team": "a"]) -> JSON {
        ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": labels],
         "spec": ["replicas": .int(replicas), "selector": ["matchLabels": ["app": "web"]],
                  "template": ["metadata": ["labels": ["app": "web"]],
                               "spec": ["containers": .array(containers.map { ["name": .string($0), "image": .string("\($0):1")] })]]]]
    }

    @Test func applyCreatesAndRecordsTheAppliedFields() async throws {
        let created = try await registry.apply(deployments, namespace: "default", name: "web",
                                               applied: deployment(replicas: 2, containers: ["web"]), manager: "ci", force: false)
        let entries = ManagedFieldsEntry.all(created)
        #expect(entries.map(\.manager) == ["ci"] && entries[0].operation == "Apply")
        #expect(entries[0].fields.contains([.field("spec"), .field("replicas")]))
        #expect(entries[0].fields.contains([.field("spec"), .field("template"), .field("spec"), .field("containers"),
                                            .key(["name": "web"]), .field("image")]))
        // Defaults belong to nobody.
        #expect(!entries[0].fields.contains([.field("spec"), .field("revisionHistoryLimit")]))
    }

    @Test func anotherManagersValueIsAConflictUnlessForced() async throws {
        _ = try await registry.apply(deployments, namespace: "default", name: "web",
                                     applied: deployment(replicas: 2, containers: ["web"]), manager: "ci", force: false)
        _ = try await registry.patch(deployments, namespace: "default", name: "web", type: .merge, patch: ["spec": ["replicas": 5]],
                                     fieldManager: "autoscaler")
        await #expect { try await registry.apply(deployments, namespace: "default", name: "web",
                                                 applied: deployment(replicas: 2, containers: ["web"]), manager: "ci", force: false) } throws: { error in
            (error as? APIError)?.message == "Apply failed with 1 conflict: conflict with \"autoscaler\" using apps/v1: .spec.replicas"
        }
        // Applying the same value is no conflict: the field becomes shared.
        _ = try await registry.apply(deployments, namespace: "default", name: "web",
                                     applied: deployment(replicas: 5, containers: ["web"]), manager: "ci", force: false)
        let forced = try await registry.apply(deployments, namespace: "default", name: "web",
                                              applied: deployment(replicas: 3, containers: ["web"]), manager: "ci", force: true)
        #expect(forced[path: ["spec", "replicas"]] == 3)
        #expect(!ManagedFieldsEntry.all(forced).contains { $0.manager == "autoscaler" })
    }

    @Test func fieldsNoLongerAppliedAreRemovedUnlessOthersManageThem() async throws {
        _ = try await registry.apply(deployments, namespace: "default", name: "web",
                                     applied: deployment(replicas: 1, containers: ["web", "sidecar"], labels: ["team": "a", "tier": "fe"]),
                                     manager: "ci", force: false)
        _ = try await registry.apply(deployments, namespace: "default", name: "web",
                                     applied: ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "web", "labels": ["tier": "fe"]]],
                                     manager: "labeller", force: false)
        let applied = try await registry.apply(deployments, namespace: "default", name: "web",
                                               applied: deployment(replicas: 1, containers: ["web"], labels: ["team": "a"]),
                                               manager: "ci", force: false)
        let containers = applied[path: ["spec", "template", "spec", "containers"]]?.array?.compactMap { $0["name"]?.string }
        #expect(containers == ["web"])
        // `tier` stays: the labeller still manages it.
        #expect(applied.labels == ["team": "a", "tier": "fe"])
    }

    @Test func fieldsV1RoundTrips() {
        let set: Set<FieldPath> = [[.field("spec"), .field("containers"), .key(["name": "web"]), .itself],
                                   [.field("metadata"), .field("finalizers"), .value("x")]]
        #expect(FieldSets.decode(FieldSets.encode(set)) == set)
        #expect(FieldSets.encode(set)[path: ["f:spec", "f:containers", "k:{\"name\":\"web\"}", "."]] == [:])
    }

    func fields(of manager: String, in object: JSON) -> Set<FieldPath>? {
        ManagedFieldsEntry.all(object).first { $0.manager == manager }?.fields
    }

    @Test func updatesTakeOverTheFieldsTheyChange() async throws {
        _ = try await registry.create(deployments, namespace: "default", body: deployment(replicas: 1, containers: ["web"]),
                                      fieldManager: "creator")
        let relabelled = try await registry.patch(deployments, namespace: "default", name: "web", type: .merge,
                                                  patch: ["metadata": ["labels": ["team": "b"]]], fieldManager: "labeller")
        let team: FieldPath = [.field("metadata"), .field("labels"), .field("team")]
        let replicas: FieldPath = [.field("spec"), .field("replicas")]
        #expect(fields(of: "labeller", in: relabelled) == [team])
        #expect(fields(of: "creator", in: relabelled)?.contains(team) == false)
        #expect(fields(of: "creator", in: relabelled)?.contains(replicas) == true)

        let rescaled = try await registry.patch(deployments, namespace: "default", name: "web", type: .strategic,
                                                patch: ["spec": ["replicas": 4, "template": ["spec": ["containers": [["name": "web", "image": "web:2"]]]]]],
                                                fieldManager: "labeller")
        let container: FieldPath = [.field("spec"), .field("template"), .field("spec"), .field("containers"), .key(["name": "web"])]
        #expect(fields(of: "labeller", in: rescaled) == [team, replicas, container + [.itself], container + [.field("image")]])
        #expect(fields(of: "creator", in: rescaled)?.contains(replicas) == false)
        #expect(fields(of: "creator", in: rescaled)?.contains(container + [.field("name")]) == true)
        // Each manager's entry keeps its own fields only: nothing of the other's appears in its tree.
        #expect(fields(of: "creator", in: rescaled)?.isDisjoint(with: fields(of: "labeller", in: rescaled) ?? []) == true)
    }

    @Test func aManagerLeftWithNoFieldsIsDropped() async throws {
        let configMaps = ResourceTable.builtIn.find(group: "", version: "v1", resource: "configmaps")!
        _ = try await registry.create(configMaps, namespace: "default",
                                      body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "settings"], "data": ["mode": "a"]],
                                      fieldManager: "creator")
        let updated = try await registry.patch(configMaps, namespace: "default", name: "settings", type: .merge,
                                               patch: ["data": ["mode": "b"]], fieldManager: "editor")
        #expect(ManagedFieldsEntry.all(updated).map(\.manager) == ["editor"])
        // A write that changes nothing leaves the entries as they were.
        let unchanged = try await registry.patch(configMaps, namespace: "default", name: "settings", type: .merge,
                                                 patch: ["data": ["mode": "b"]], fieldManager: "third")
        #expect(ManagedFieldsEntry.all(unchanged).map(\.manager) == ["editor"])
    }
}
