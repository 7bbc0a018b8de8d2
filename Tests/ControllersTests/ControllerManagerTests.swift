import Foundation
import KubeAPI
import KubeClient
import KubeModel
import KubeStore
import Logging
import Testing
@testable import Controllers

/// The controllers at work: a controller manager running against a real store, driven as a user would.
struct ControllerManagerTests {
    let registry: Registry
    let admin: KubeClient

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("controllers-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path),
                            serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
        let server = APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1"))
        admin = KubeClient(server: server, user: UserInfo(name: "admin", groups: ["system:masters"]), userAgent: "kubectl/v1.34")
    }

    /// Runs `body` while the controller manager runs.
    func withControllers(_ body: () async throws -> Void) async throws {
        let manager = ControllerManager(server: admin.server, identity: "test", logger: Logger(label: "test"))
        let running = Task { await manager.runControllers() }
        defer { running.cancel() }
        try await body()
        running.cancel()
        await running.value
        registry.shutdown()
    }

    func configMap(_ name: String, namespace: String = "default", owners: [JSON] = []) -> JSON {
        var object: JSON = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name), "namespace": .string(namespace)]]
        object.ownerReferences = owners.map { OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: $0.name, uid: $0.uid ?? "",
                                                             blockOwnerDeletion: true) }
        return object
    }

    func exists(_ resource: ResourceType, _ namespace: String?, _ name: String) async throws -> Bool {
        do {
            _ = try await admin.get(resource, ObjectKey(namespace: namespace, name: name))
            return true
        } catch let error as APIError where error.isNotFound {
            return false
        }
    }

    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await condition()
    }

    @Test(.timeLimit(.minutes(1))) func theGarbageCollectorCarriesOutEachPropagationPolicy() async throws {
        let configmaps = try admin.resource("configmaps")
        try await withControllers {
            // Background: the owner goes at once, its dependents after it; an object with another owner left keeps it.
            let owner = try await admin.create(configmaps, configMap("owner"))
            let other = try await admin.create(configmaps, configMap("other"))
            _ = try await admin.create(configmaps, configMap("dependent", owners: [owner]))
            _ = try await admin.create(configmaps, configMap("shared", owners: [owner, other]))
            try await admin.delete(configmaps, owner.objectKey)
            #expect(try await eventually { try await !exists(configmaps, "default", "dependent") })
            #expect(try await eventually {
                try await admin.get(configmaps, ObjectKey(namespace: "default", name: "shared")).ownerReferences.map(\.name) == ["other"]
            })

            // Foreground: the dependents go first, then the owner.
            let parent = try await admin.create(configmaps, configMap("parent"))
            _ = try await admin.create(configmaps, configMap("child", owners: [parent]))
            let marked = try await admin.delete(configmaps, parent.objectKey, propagationPolicy: "Foreground")
            #expect(marked.finalizers == ["foregroundDeletion"])
            #expect(try await eventually { try await !exists(configmaps, "default", "parent") })
            #expect(try await !exists(configmaps, "default", "child"))

            // Orphan: the dependents stay and no longer name the owner.
            let keeper = try await admin.create(configmaps, configMap("keeper"))
            _ = try await admin.create(configmaps, configMap("kept", owners: [keeper]))
            try await admin.delete(configmaps, keeper.objectKey, propagationPolicy: "Orphan")
            #expect(try await eventually { try await !exists(configmaps, "default", "keeper") })
            #expect(try await admin.get(configmaps, ObjectKey(namespace: "default", name: "kept")).ownerReferences.isEmpty)

            // A dependent whose owner never existed goes too (the API is asked before anything is deleted).
            _ = try await admin.create(configmaps, configMap("stray", owners: [["metadata": ["name": "ghost", "uid": "no-such-uid"]]]))
            #expect(try await eventually { try await !exists(configmaps, "default", "stray") })
        }
    }

    @Test(.timeLimit(.minutes(1))) func aDeletedNamespaceIsEmptiedThenGoes() async throws {
        let namespaces = try admin.resource("namespaces")
        let configmaps = try admin.resource("configmaps")
        try await withControllers {
            _ = try await admin.create(namespaces, ["metadata": ["name": "doomed"]])
            _ = try await admin.create(configmaps, configMap("c", namespace: "doomed"))
            var held = configMap("held", namespace: "doomed")
            held[path: ["metadata", "finalizers"]] = ["example.com/hold"]
            _ = try await admin.create(configmaps, held)
            // Every namespace gets its default service account.
            let serviceAccounts = try admin.resource("serviceaccounts")
            #expect(try await eventually { try await exists(serviceAccounts, "doomed", "default") })

            try await admin.delete(namespaces, ObjectKey(namespace: nil, name: "doomed"))
            #expect(try await eventually { try await !exists(configmaps, "doomed", "c") })
            // Held by a finalizer: the namespace waits and says why.
            #expect(try await eventually {
                try await admin.get(namespaces, ObjectKey(namespace: nil, name: "doomed")).condition("NamespaceFinalizersRemaining")?.status == "True"
            })
            _ = try await admin.patch(configmaps, ObjectKey(namespace: "doomed", name: "held"), ["metadata": ["finalizers": nil]])
            #expect(try await eventually { try await !exists(namespaces, nil, "doomed") })
        }
    }

    @Test(.timeLimit(.minutes(1))) func aQuotasUsageIsCountedAgainWhenObjectsGo() async throws {
        let quotas = try admin.resource("resourcequotas")
        let configmaps = try admin.resource("configmaps")
        try await withControllers {
            _ = try await admin.create(configmaps, configMap("one"))
            _ = try await admin.create(quotas, ["metadata": ["name": "q", "namespace": "default"], "spec": ["hard": ["configmaps": "5"]]])
            let key = ObjectKey(namespace: "default", name: "q")
            // The kube-root-ca.crt configmap does not exist in Skiff yet, so one configmap is in use.
            #expect(try await eventually { try await admin.get(quotas, key)[path: ["status", "used", "configmaps"]] == "1" })
            _ = try await admin.create(configmaps, configMap("two"))
            #expect(try await eventually { try await admin.get(quotas, key)[path: ["status", "used", "configmaps"]] == "2" })
            try await admin.delete(configmaps, ObjectKey(namespace: "default", name: "one"))
            #expect(try await eventually { try await admin.get(quotas, key)[path: ["status", "used", "configmaps"]] == "1" })
        }
    }

    @Test func aggregatedClusterRolesGatherTheRulesOfTheRolesTheySelect() async throws {
        let roles = try admin.resource("clusterroles", group: "rbac.authorization.k8s.io")
        try await withControllers {
            // The bootstrap aggregation fills view, edit and admin from the system:aggregate-to-* roles.
            #expect(try await eventually {
                let view = try await admin.get(roles, ObjectKey(namespace: nil, name: "view"))
                return view["rules"]?.array?.count == UserFacingRoles.view.count
            })
            let crdViewer: JSON = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": ["name": "widgets-view", "labels": ["rbac.authorization.k8s.io/aggregate-to-view": "true"]],
                "rules": [["apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]]],
            ]
            _ = try await admin.create(roles, crdViewer)
            // view, and edit and admin through it, now read widgets.
            for name in ["view", "edit", "admin"] {
                #expect(try await eventually {
                    let role = try await admin.get(roles, ObjectKey(namespace: nil, name: name))
                    return role["rules"]?.array?.contains { $0["resources"] == ["widgets"] } == true
                })
            }
            try await admin.delete(roles, ObjectKey(namespace: nil, name: "widgets-view"))
            #expect(try await eventually {
                let view = try await admin.get(roles, ObjectKey(namespace: nil, name: "view"))
                return view["rules"]?.array?.contains { $0["resources"] == ["widgets"] } == false
            })
        }
    }
}
