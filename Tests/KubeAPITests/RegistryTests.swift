import Foundation
import KubeStore
import Testing
import KubeModel
@testable import KubeAPI

/// The registry's object semantics against a real store.
struct RegistryTests {
    let registry: Registry
    let table = ResourceTable.builtIn

    init() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeapi-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path),
                            serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/16"))
        try await ClusterBootstrap.run(registry)
    }

    func resource(_ name: String, group: String = "") -> ResourceType {
        table.all.first { $0.resource == name && $0.group == group }!
    }

    func configMap(_ name: String, data: JSON = ["a": "1"]) -> JSON {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": data]
    }

    @Test func createSetsTheSystemFieldsAndDefaults() async throws {
        let deployment: JSON = ["metadata": ["name": "web"], "spec": [
            "selector": ["matchLabels": ["app": "web"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]]]
        let created = try await registry.create(resource("deployments", group: "apps"), namespace: "default", body: deployment)
        #expect(created.uid?.count == 36 && created.creationTimestamp != nil && created.resourceVersion != nil)
        #expect(created.generation == 1 && created["kind"] == "Deployment" && created["apiVersion"] == "apps/v1")
        #expect(created[path: ["spec", "replicas"]] == 1)
        #expect(created[path: ["spec", "template", "spec", "containers"]]?.array?[0]["imagePullPolicy"] == "Always")
        #expect(created["status"] == [:])
    }

    @Test func generateNameMakesAUniqueName() async throws {
        let created = try await registry.create(resource("configmaps"), namespace: "default",
                                                body: ["metadata": ["generateName": "cfg-"], "data": [:]])
        #expect(created.name.hasPrefix("cfg-") && created.name.count == 9)
    }

    @Test func badRequestsAreRefusedWithTheirReasons() async throws {
        let configmaps = resource("configmaps")
        await #expect(throws: APIError.notFound("namespaces", name: "nowhere")) {
            try await registry.create(configmaps, namespace: "nowhere", body: configMap("x"))
        }
        _ = try await registry.create(configmaps, namespace: "default", body: configMap("x"))
        await #expect(throws: APIError.alreadyExists("configmaps", name: "x")) {
            try await registry.create(configmaps, namespace: "default", body: configMap("x"))
        }
        await #expect { try await registry.create(configmaps, namespace: "default", body: configMap("Not_Valid")) } throws: { error in
            (error as? APIError)?.code == 422 && (error as? APIError)?.reason == "Invalid"
        }
        await #expect(throws: APIError.notFound("configmaps", name: "missing")) {
            try await registry.get(configmaps, namespace: "default", name: "missing")
        }
    }

    @Test func updateNeedsTheCurrentResourceVersionAndBumpsGenerationOnSpecOnly() async throws {
        let deployments = resource("deployments", group: "apps")
        let body: JSON = ["metadata": ["name": "web"], "spec": [
            "selector": ["matchLabels": ["app": "web"]],
            "template": ["metadata": ["labels": ["app": "web"]], "spec": ["containers": [["name": "c", "image": "nginx"]]]]]]
        let created = try await registry.create(deployments, namespace: "default", body: body)
        var labelled = created
        labelled[path: ["metadata", "labels"]] = ["x": "y"]
        let afterLabel = try await registry.update(deployments, namespace: "default", name: "web", body: labelled)
        #expect(afterLabel.generation == 1)
        await #expect(throws: APIError.conflict("deployments", group: "apps", name: "web")) {
            try await registry.update(deployments, namespace: "default", name: "web", body: labelled)
        }
        var scaled = afterLabel
        scaled[path: ["spec", "replicas"]] = 3
        scaled["status"] = ["replicas": 99]
        let afterScale = try await registry.update(deployments, namespace: "default", name: "web", body: scaled)
        #expect(afterScale.generation == 2)
        // The main resource ignores status; the status subresource ignores the rest.
        #expect(afterScale["status"] == [:])
        var status = afterScale
        status["status"] = ["replicas": 3]
        status[path: ["spec", "replicas"]] = 7
        let afterStatus = try await registry.update(deployments, namespace: "default", name: "web", body: status, target: .status)
        #expect(afterStatus[path: ["status", "replicas"]] == 3 && afterStatus[path: ["spec", "replicas"]] == 3)
    }

    @Test func finalizersHoldDeletionUntilTheyAreGone() async throws {
        let configmaps = resource("configmaps")
        var body = configMap("held")
        body[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        _ = try await registry.create(configmaps, namespace: "default", body: body)
        let marked = try await registry.delete(configmaps, namespace: "default", name: "held")
        #expect(marked.deletionTimestamp != nil)
        #expect(try await registry.get(configmaps, namespace: "default", name: "held").deletionTimestamp != nil)
        _ = try await registry.patch(configmaps, namespace: "default", name: "held", type: .merge,
                                     patch: ["metadata": ["finalizers": nil]])
        await #expect(throws: APIError.notFound("configmaps", name: "held")) {
            try await registry.get(configmaps, namespace: "default", name: "held")
        }
    }

    @Test func terminatingNamespacesTakeNoNewObjects() async throws {
        let namespaces = resource("namespaces")
        _ = try await registry.create(namespaces, namespace: nil, body: ["metadata": ["name": "going"]])
        var held = configMap("held")
        held[path: ["metadata", "finalizers"]] = ["example.com/hold"]
        _ = try await registry.create(resource("configmaps"), namespace: "going", body: held)
        let terminating = try await registry.delete(namespaces, namespace: nil, name: "going")
        #expect(terminating[path: ["status", "phase"]] == "Terminating" && terminating.deletionTimestamp != nil)
        await #expect { try await registry.create(resource("configmaps"), namespace: "going", body: configMap("late")) } throws: { error in
            (error as? APIError)?.code == 403
        }
        await #expect { try await registry.delete(namespaces, namespace: nil, name: "default") } throws: { error in
            (error as? APIError)?.code == 403
        }
        // Once the namespace controller has emptied it and cleared spec.finalizers, it goes.
        var finalized = terminating
        finalized[path: ["spec", "finalizers"]] = []
        let request = APIRequest(method: "PUT", path: "/api/v1/namespaces/going/finalize", query: [:], headers: [:],
                                 body: JSONCoding.encode(finalized), user: UserInfo(name: "admin", groups: ["system:masters"]))
        let response = await APIServer(registry: registry, version: VersionInfo(patchVersion: "1.34.1")).handle(request)
        #expect(response.status == 200)
        await #expect(throws: APIError.notFound("namespaces", name: "going")) {
            try await registry.get(namespaces, namespace: nil, name: "going")
        }
    }

    @Test func concurrentCreatesNeverShareAnAddress() async throws {
        // A /28 has 14 usable addresses, the kubernetes service takes one: 13 for 20 concurrent creates.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubeapi-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let small = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path),
                             serviceNetwork: ServiceNetwork(cidr: "10.100.0.0/28"))
        try await ClusterBootstrap.run(small)
        let services = resource("services")
        let created = await withTaskGroup(of: JSON?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let body: JSON = ["metadata": ["name": .string("s\(index)")], "spec": ["ports": [["port": 80]]]]
                    return try? await small.create(services, namespace: "default", body: body)
                }
            }
            return await group.reduce(into: [JSON]()) { if let service = $1 { $0.append(service) } }
        }
        let addresses = created.compactMap { $0[path: ["spec", "clusterIP"]]?.string }
        #expect(addresses.count == 13 && Set(addresses).count == 13 && !addresses.contains("10.100.0.1"))
        // A deleted Service's address is free again.
        _ = try await small.delete(services, namespace: "default", name: created[0].name)
        let again = try await small.create(services, namespace: "default", body: ["metadata": ["name": "again"], "spec": ["ports": [["port": 80]]]])
        #expect(again[path: ["spec", "clusterIP"]] == created[0][path: ["spec", "clusterIP"]])
        small.shutdown()
    }

    @Test func listsFilterAndPage() async throws {
        let configmaps = resource("configmaps")
        for index in 0..<5 {
            var body = configMap("cm\(index)")
            body[path: ["metadata", "labels"]] = ["parity": index % 2 == 0 ? "even" : "odd"]
            _ = try await registry.create(configmaps, namespace: "default", body: body)
        }
        var options = ListOptions()
        options.labelSelector = try LabelSelector(parsing: "parity=even")
        options.limit = 2
        let first = try await registry.list(configmaps, namespace: "default", options: options)
        #expect(first.items.map(\.name) == ["cm0", "cm2"] && first.continueToken != nil)
        options.continueToken = first.continueToken
        let second = try await registry.list(configmaps, namespace: "default", options: options)
        #expect(second.items.map(\.name) == ["cm4"] && second.continueToken == nil)
        var byName = ListOptions()
        byName.fieldSelector = try FieldSelector(parsing: "metadata.name=cm3")
        #expect(try await registry.list(configmaps, namespace: nil, options: byName).items.map(\.name) == ["cm3"])
    }

    @Test func watchReportsAddedModifiedDeleted() async throws {
        let configmaps = resource("configmaps")
        _ = try await registry.create(configmaps, namespace: "default", body: configMap("before"))
        let events = try await registry.watch(configmaps, namespace: "default", options: ListOptions())
        _ = try await registry.create(configmaps, namespace: "default", body: configMap("after"))
        _ = try await registry.patch(configmaps, namespace: "default", name: "after", type: .merge, patch: ["data": ["b": "2"]])
        _ = try await registry.delete(configmaps, namespace: "default", name: "after")
        var seen: [String] = []
        for try await event in events {
            seen.append("\(event.type.rawValue) \(event.object.name)")
            if seen.count == 4 { break }
        }
        #expect(seen == ["ADDED before", "ADDED after", "MODIFIED after", "DELETED after"])
    }

    @Test func dryRunWritesNothing() async throws {
        let configmaps = resource("configmaps")
        let created = try await registry.create(configmaps, namespace: "default", body: configMap("dry"), dryRun: true)
        #expect(created.name == "dry")
        await #expect(throws: APIError.self) { try await registry.get(configmaps, namespace: "default", name: "dry") }
    }

    @Test func servicesGetAddressesFromTheServiceCIDR() async throws {
        let services = resource("services")
        let kubernetes = try await registry.get(services, namespace: "default", name: "kubernetes")
        #expect(kubernetes[path: ["spec", "clusterIP"]] == "10.100.0.1")
        let created = try await registry.create(services, namespace: "default", body: [
            "metadata": ["name": "web"], "spec": ["type": "NodePort", "ports": [["port": 80]]]])
        let ip = created[path: ["spec", "clusterIP"]]?.string ?? ""
        #expect(ip.hasPrefix("10.100.") && ip != "10.100.0.1")
        #expect((30000...32767).contains(created[path: ["spec", "ports"]]?.array?[0]["nodePort"]?.int ?? 0))
        #expect(created[path: ["spec", "ports"]]?.array?[0]["targetPort"] == 80)
    }

    @Test func watchersOfOneResourceEachSeeTheirSelection() async throws {
        let configmaps = resource("configmaps")
        _ = try await registry.create(configmaps, namespace: "default", body: ["metadata": ["name": "a", "labels": ["tier": "web"]], "data": ["a": "1"]])
        var web = ListOptions()
        web.labelSelector = try LabelSelector(parsing: "tier=web")
        var db = ListOptions()
        db.labelSelector = try LabelSelector(parsing: "tier=db")
        let webEvents = try await registry.watch(configmaps, namespace: "default", options: web)
        let dbEvents = try await registry.watch(configmaps, namespace: "default", options: db)
        let everything = try await registry.watch(configmaps, namespace: nil, options: ListOptions())
        _ = try await registry.patch(configmaps, namespace: "default", name: "a", type: .merge, patch: ["metadata": ["labels": ["tier": "db"]]])
        _ = try await registry.delete(configmaps, namespace: "default", name: "a")
        func first(_ count: Int, of events: Registry.EventStream) async throws -> [String] {
            var seen: [String] = []
            for try await event in events {
                seen.append("\(event.type.rawValue) \(event.object.labels["tier"] ?? "")")
                if seen.count == count { break }
            }
            return seen
        }
        #expect(try await first(2, of: webEvents) == ["ADDED web", "DELETED db"])
        #expect(try await first(2, of: dbEvents) == ["ADDED db", "DELETED db"])
        #expect(try await first(3, of: everything) == ["ADDED web", "MODIFIED db", "DELETED db"])
    }

    @Test func theWatchCacheKeepsRecentChangesAndWatchersOlderThanThemGoToTheStore() async throws {
        let configmaps = resource("configmaps")
        let store = registry.store
        let cache = WatchCache(resource: configmaps, store: store, recentLimit: 4)
        defer { cache.stop() }
        #expect(await cache.catchUp(to: try await store.currentRevision(), store: store))
        let start = try await store.currentRevision()
        for index in 0..<6 {
            _ = try await registry.create(configmaps, namespace: "default", body: configMap("c\(index)"))
        }
        #expect(await cache.catchUp(to: start + 6, store: store))
        // Four kept, then trimmed to half: only the last changes remain.
        let everything = WatchCache.Selection(prefix: configmaps.keyPrefix(namespace: nil), labels: LabelSelector(requirements: []),
                                              fields: FieldSelector(terms: []), beganFromList: false)
        let (unserved, unservedContinuation) = Registry.EventStream.makeStream()
        #expect(nil == cache.watch(after: start, selection: everything, matching: [], continuation: unservedContinuation))
        unservedContinuation.finish()
        for try await _ in unserved { Issue.record("a watch the cache refused got an event") }
        let (recent, continuation) = Registry.EventStream.makeStream()
        #expect(nil != cache.watch(after: start + 4, selection: everything, matching: [], continuation: continuation))
        _ = try await registry.create(configmaps, namespace: "default", body: configMap("live"))
        var names: [String] = []
        for try await event in recent {
            names.append("\(event.type.rawValue) \(event.object.name)")
            if names.count == 3 { break }
        }
        #expect(names == ["ADDED c4", "ADDED c5", "ADDED live"])
        // The registry's watch from the older revision still sees every change, from the store.
        var options = ListOptions()
        options.resourceVersion = String(start)
        let events = try await registry.watch(configmaps, namespace: "default", options: options)
        var fromStore: [String] = []
        for try await event in events {
            fromStore.append(event.object.name)
            if fromStore.count == 7 { break }
        }
        #expect(fromStore == ["c0", "c1", "c2", "c3", "c4", "c5", "live"])
    }

    @Test func propagationPoliciesLeaveTheirFinalizerForTheGarbageCollector() async throws {
        let configmaps = resource("configmaps")
        for (name, policy, finalizer) in [("fore", "Foreground", "foregroundDeletion"), ("orphaned", "Orphan", "orphan")] {
            _ = try await registry.create(configmaps, namespace: "default", body: configMap(name))
            var options = Registry.DeleteOptions()
            options.propagationPolicy = policy
            let marked = try await registry.delete(configmaps, namespace: "default", name: name, options: options)
            #expect(marked.finalizers == [finalizer] && marked.deletionTimestamp != nil)
            // The collector's work done, the finalizer goes and so does the object.
            _ = try await registry.patch(configmaps, namespace: "default", name: name, type: .merge, patch: ["metadata": ["finalizers": nil]])
            await #expect(throws: APIError.notFound("configmaps", name: name)) { try await registry.get(configmaps, namespace: "default", name: name) }
        }
        _ = try await registry.create(configmaps, namespace: "default", body: configMap("background"))
        _ = try await registry.delete(configmaps, namespace: "default", name: "background")
        await #expect(throws: APIError.self) { try await registry.get(configmaps, namespace: "default", name: "background") }
    }

    @Test(.timeLimit(.minutes(1))) func aWatchStartsWithEveryObjectHoweverMany() async throws {
        let configmaps = resource("configmaps")
        let count = WatchCache.watcherBufferLimit + 50
        let store = registry.store
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    for index in stride(from: writer, to: count, by: 16) {
                        let object: JSON = ["apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": ["name": .string("cm-\(index)"), "namespace": "default"]]
                        _ = try await store.create(configmaps.key(namespace: "default", name: "cm-\(index)"), value: JSONCoding.encode(object))
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try await registry.watch(configmaps, namespace: "default", options: ListOptions())
        var added = 0
        for try await event in events where event.type == .added {
            added += 1
            if added == count { break }
        }
        #expect(added == count)
    }

    @Test(.timeLimit(.minutes(1)), arguments: [true, false])
    func bookmarksComeAfterTheEventsTheyCover(fromTheCache: Bool) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bookmarks-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let registry = Registry(store: try SQLiteKubeStore(path: directory.appendingPathComponent("c.sqlite").path),
                                bookmarkInterval: .milliseconds(20))
        try await ClusterBootstrap.run(registry)
        let configmaps = resource("configmaps")
        var options = ListOptions()
        options.allowWatchBookmarks = true
        if fromTheCache {
            _ = try await registry.list(configmaps, namespace: "default", options: ListOptions())  // starts the cache
        } else {
            options.resourceVersion = String(try await registry.store.currentRevision())  // no cache yet: a store watch
        }
        let events = try await registry.watch(configmaps, namespace: "default", options: options)
        var written: Int64 = 0
        for index in 0..<20 {
            written = Int64(try await registry.create(configmaps, namespace: "default", body: configMap("b\(index)")).resourceVersion ?? "") ?? 0
        }
        var seen: Int64 = 0
        for try await event in events {
            let revision = Int64(event.object.resourceVersion ?? "") ?? 0
            if event.type == .bookmark {
                // Never ahead of an event not yet sent.
                #expect(revision <= seen || seen == 0 && revision < written)
                if seen == written { break }
            } else {
                seen = max(seen, revision)
            }
        }
        #expect(seen == written)
        registry.shutdown()
    }

    @Test func aNewStorageVersionJoinsTheStoredVersions() async throws {
        let definitions = resource("customresourcedefinitions", group: "apiextensions.k8s.io")
        func definition(storage: String) -> JSON {
            let schema: JSON = ["openAPIV3Schema": ["type": "object"]]
            return ["metadata": ["name": "gears.example.com"],
                    "spec": ["group": "example.com", "scope": "Namespaced", "names": ["plural": "gears", "kind": "Gear"],
                             "versions": [["name": "v1", "served": true, "storage": .bool(storage == "v1"), "schema": schema],
                                          ["name": "v2", "served": true, "storage": .bool(storage == "v2"), "schema": schema]]]]
        }
        let created = try await registry.create(definitions, namespace: nil, body: definition(storage: "v1"))
        #expect(created[path: ["status", "storedVersions"]] == ["v1"])
        var changed = definition(storage: "v2")
        changed[path: ["metadata", "resourceVersion"]] = created["metadata"]?["resourceVersion"]
        let updated = try await registry.update(definitions, namespace: nil, name: "gears.example.com", body: changed)
        #expect(updated[path: ["status", "storedVersions"]] == ["v1", "v2"])
    }

    @Test func aBodyOfAnotherKindIsABadRequest() async throws {
        await #expect { try await registry.create(resource("secrets"), namespace: "default", body: configMap("wrong")) } throws: { error in
            let error = error as? APIError
            return error?.code == 400 && error?.message.hasPrefix("ConfigMap in version \"v1\" cannot be handled as a Secret: ") == true
        }
    }
}
