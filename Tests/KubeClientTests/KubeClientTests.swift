import Foundation
import KubeAPI
import KubeModel
import Synchronization
import Testing
@testable import KubeClient

struct KubeClientTests {
    @Test func callsGoThroughTheAPIServerAsTheClientsUser() async throws {
        let cluster = try await ClusterFixture()
        let admin = KubeClient(server: cluster.server, user: ClusterFixture.admin, userAgent: "test/1.0")
        let configmaps = try admin.resource("configmaps")
        let created = try await admin.create(configmaps, ClusterFixture.configMap("c"))
        #expect(created.uid != nil && created[path: ["metadata", "managedFields"]]?.array?.first?["manager"] == "test")
        // Validation applies as to any request.
        await #expect { try await admin.create(configmaps, ClusterFixture.configMap("Not_Valid")) } throws: { ($0 as? APIError)?.code == 422 }
        // Another user is authorized as itself: it may not read the configmap.
        let stranger = admin.as(UserInfo(name: "stranger", groups: ["system:authenticated"]))
        await #expect { try await stranger.get(configmaps, created.objectKey) } throws: { ($0 as? APIError)?.code == 403 }
        await #expect { try await stranger.cached(configmaps) } throws: { ($0 as? APIError)?.code == 403 }
        cluster.registry.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func anInformerReplaysWhatExistsThenEveryChangeInOrder() async throws {
        let cluster = try await ClusterFixture()
        let client = KubeClient(server: cluster.server, user: ClusterFixture.admin, userAgent: "test")
        let configmaps = try client.resource("configmaps")
        _ = try await client.create(configmaps, ClusterFixture.configMap("before"))
        let informers = SharedInformers(client: client)
        let informer = try await informers.informer(configmaps)
        let seen = Mutex<[String]>([])
        informer.addHandler { event in
            let entry = switch event {
            case .sync(let key): "sync \(key.name)"
            case .change(let change): "\(change.kind) \(change.key.name)"
            }
            seen.withLock { $0.append(entry) }
        }
        informers.start()
        await informers.waitForSync()
        let after = try await client.create(configmaps, ClusterFixture.configMap("after"))
        var changed = after
        changed["data"] = ["a": "2"]
        _ = try await client.update(configmaps, changed)
        try await client.delete(configmaps, after.objectKey)
        #expect(try await eventually { seen.withLock { $0.count } >= 4 })
        #expect(seen.withLock { $0 } == ["sync before", "added after", "updated after", "deleted after"])
        #expect(informer.get(ObjectKey(namespace: "default", name: "before"))?["data"] == ["a": "1"])
        #expect(informer.list(namespace: "default").map(\.name) == ["before"])
        // A handler added late is first told of what exists.
        let late = Mutex<[String]>([])
        informer.addHandler { event in late.withLock { $0.append(event.key.name) } }
        #expect(late.withLock { $0 } == ["before"])
        await informers.stop()
        cluster.registry.shutdown()
    }

    @Test func oneCandidateHoldsTheLeaseUntilItExpires() async throws {
        let cluster = try await ClusterFixture()
        let client = KubeClient(server: cluster.server, user: ClusterFixture.admin, userAgent: "test")
        let first = LeaderElector(client: client, name: "kube-controller-manager", identity: "one")
        let second = LeaderElector(client: client, name: "kube-controller-manager", identity: "two")
        let now = Date()
        #expect(try await first.tryAcquireOrRenew(now: now))
        #expect(try await !second.tryAcquireOrRenew(now: now.addingTimeInterval(5)))
        #expect(try await first.tryAcquireOrRenew(now: now.addingTimeInterval(10)))
        // Unrenewed for longer than the lease lasts: the other takes over, and the transition is counted.
        #expect(try await second.tryAcquireOrRenew(now: now.addingTimeInterval(26)))
        let lease = try await client.get(try client.resource("leases", group: "coordination.k8s.io"),
                                         ObjectKey(namespace: "kube-system", name: "kube-controller-manager"))
        #expect(lease[path: ["spec", "holderIdentity"]] == "two" && lease[path: ["spec", "leaseTransitions"]] == 1)
        #expect(lease[path: ["spec", "renewTime"]]?.string?.contains(".") == true)
        cluster.registry.shutdown()
    }
}
