import EtcdStore
import Foundation
import Testing
@testable import KubeStore

/// A backend the conformance suite runs against: SQLite, and etcd with one member and with three.
struct Backend: CustomTestStringConvertible, Sendable {
    let name: String
    /// Events a watcher may have waiting before the store cuts it off.
    var watchBufferLimit = WatchHub.bufferLimit
    let open: @Sendable (_ directory: URL) async throws -> any KubeStore

    var testDescription: String { name }

    static let all = [
        Backend(name: "sqlite") { try SQLiteKubeStore(path: $0.appendingPathComponent("cluster.sqlite").path) },
        // A smaller watch buffer on etcd, so that overrunning it takes a test a second, not a minute of writes.
        Backend(name: "etcd", watchBufferLimit: 1000) { try await SharedEtcd.one.store(named: $0.lastPathComponent, watchBufferLimit: 1000) },
        Backend(name: "etcd x3", watchBufferLimit: 1000) {
            try await SharedEtcd.three.store(named: $0.lastPathComponent, watchBufferLimit: 1000)
        },
    ]

    /// A store of its own; on etcd, a prefix of its own on the backend's shared etcd cluster.
    func fresh() async throws -> (any KubeStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubestore-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try await open(directory), directory)
    }
}

/// One etcd cluster per size for the whole suite, started by the first test that needs it (the others wait for
/// the same start); etcd-server is an install-script package.
struct SharedEtcd: Sendable {
    static let one = SharedEtcd(size: 1)
    static let three = SharedEtcd(size: 3)

    let started: Task<(LocalEtcdCluster, EtcdClient), any Error>

    init(size: Int) {
        started = Task {
            let cluster = try await LocalEtcdCluster(size: size)
            return (cluster, try EtcdClient(endpoints: cluster.endpoints))
        }
    }

    func store(named name: String, watchBufferLimit: Int) async throws -> EtcdKubeStore {
        EtcdKubeStore(client: try await started.value.1, prefix: "/skiff-test/\(name)", compactionKey: "/skiff-test/compact_rev_key",
                      watchBufferLimit: watchBufferLimit)
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Takes events from a watch until `count` have arrived (or it ends).
func take(_ count: Int, from stream: WatchStream) async throws -> [WatchEvent] {
    var events: [WatchEvent] = []
    for try await event in stream {
        events.append(event)
        if events.count == count { break }
    }
    return events
}

/// Revisions on etcd are global to the etcd cluster, so each test counts from the revision it starts at and
/// the tests run one at a time (a test's writes are then the only ones between its revisions).
@Suite(.serialized)
struct KubeStoreConformanceTests {
    @Test(arguments: Backend.all)
    func everyWriteGetsTheNextRevision(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
                let a = try await store.create("/a", value: bytes("1"))
        let b = try await store.create("/b", value: bytes("1"))
        let a2 = try await store.update("/a", value: bytes("2"), expectedRevision: a.modRevision)
        let (_, deleted) = try await store.delete("/b", expectedRevision: nil)
        #expect([a.modRevision, b.modRevision, a2.modRevision, deleted] == [r + 1, r + 2, r + 3, r + 4])
        #expect(a2.createRevision == r + 1 && a2.version == 2)
        #expect(try await store.currentRevision() == r + 4)
    }

    @Test(arguments: Backend.all)
    func createRefusesAnExistingKey(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        _ = try await store.create("/a", value: bytes("1"))
        await #expect(throws: StoreError.keyExists("/a")) { try await store.create("/a", value: bytes("2")) }
        #expect(try await store.get("/a")?.value == bytes("1"))
        #expect(try await store.currentRevision() == r + 1)
    }

    @Test(arguments: Backend.all)
    func compareAndSwapRefusesAStaleRevision(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let first = try await store.create("/a", value: bytes("1"))
        let second = try await store.update("/a", value: bytes("2"), expectedRevision: first.modRevision)
        await #expect(throws: StoreError.conflict(current: second)) {
            try await store.update("/a", value: bytes("3"), expectedRevision: first.modRevision)
        }
        await #expect(throws: StoreError.conflict(current: second)) {
            try await store.delete("/a", expectedRevision: first.modRevision)
        }
        await #expect(throws: StoreError.keyNotFound("/missing")) {
            try await store.update("/missing", value: bytes("1"), expectedRevision: nil)
        }
        await #expect(throws: StoreError.keyNotFound("/missing")) { try await store.delete("/missing", expectedRevision: nil) }
        #expect(try await store.get("/a") == second)
    }

    @Test(arguments: Backend.all)
    func deleteReturnsTheLastStateAndRecreateStartsOver(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let created = try await store.create("/a", value: bytes("v1"))
        let (deleted, revision) = try await store.delete("/a", expectedRevision: created.modRevision)
        #expect(deleted.value == bytes("v1") && revision == r + 2)
        #expect(try await store.get("/a") == nil)
        let again = try await store.create("/a", value: bytes("v2"))
        #expect(again.createRevision == r + 3 && again.version == 1)
    }

    @Test(arguments: Backend.all)
    func rangesAreInKeyOrderAndPage(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        for key in ["/pods/b", "/pods/a", "/pods/c", "/podsx/z", "/pod/y"] { _ = try await store.create(key, value: bytes(key)) }
        let all = try await store.range(RangeRequest(prefix: "/pods/"))
        #expect(all.items.map(\.key) == ["/pods/a", "/pods/b", "/pods/c"])
        #expect(!all.more && all.revision == r + 5)
        let first = try await store.range(RangeRequest(prefix: "/pods/", limit: 2))
        #expect(first.items.map(\.key) == ["/pods/a", "/pods/b"] && first.more)
        // The next page at the first page's revision does not see later writes.
        _ = try await store.create("/pods/d", value: bytes("d"))
        let second = try await store.range(RangeRequest(prefix: "/pods/", revision: first.revision, limit: 2, startAfter: "/pods/b"))
        #expect(second.items.map(\.key) == ["/pods/c"] && !second.more)
    }

    /// More keys than one etcd Range call reads (the backend pages internally, at one revision).
    @Test(arguments: Backend.all)
    func largeRangesComeWholeAndInOrder(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let count = 2500
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<64 {
                group.addTask {
                    for index in stride(from: writer, to: count, by: 64) {
                        _ = try await store.create("/big/\(String(format: "%05d", index))", value: bytes("\(index)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = try await store.range(RangeRequest(prefix: "/big/"))
        #expect(all.items.count == count && !all.more)
        #expect(all.items.map(\.key) == (0..<count).map { "/big/\(String(format: "%05d", $0))" })
        let page = try await store.range(RangeRequest(prefix: "/big/", limit: 1500))
        #expect(page.items.count == 1500 && page.more)
        let rest = try await store.range(RangeRequest(prefix: "/big/", revision: page.revision, startAfter: page.items.last!.key))
        #expect(rest.items.count == count - 1500 && !rest.more)
    }

    @Test(arguments: Backend.all)
    func pastRevisionsReadAsTheyWere(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let v1 = try await store.create("/a", value: bytes("1"))
        _ = try await store.update("/a", value: bytes("2"), expectedRevision: nil)
        _ = try await store.delete("/a", expectedRevision: nil)
        #expect(try await store.range(RangeRequest(prefix: "/", revision: r + 1)).items == [v1])
        #expect(try await store.range(RangeRequest(prefix: "/", revision: r + 2)).items.map(\.value) == [bytes("2")])
        #expect(try await store.range(RangeRequest(prefix: "/", revision: r + 3)).items.isEmpty)
        await #expect(throws: StoreError.futureRevision(r + 9)) { try await store.range(RangeRequest(prefix: "/", revision: r + 9)) }
    }

    @Test(arguments: Backend.all)
    func watchSendsHistoryThenLiveChangesInOrder(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let a = try await store.create("/w/a", value: bytes("1"))
        _ = try await store.create("/other", value: bytes("x"))
        _ = try await store.update("/w/a", value: bytes("2"), expectedRevision: a.modRevision)
        let stream = try await store.watch(prefix: "/w/", afterRevision: r)
        _ = try await store.create("/w/b", value: bytes("3"))
        _ = try await store.delete("/w/a", expectedRevision: nil)
        let events = try await take(4, from: stream)
        #expect(events.map(\.revision) == [r + 1, r + 3, r + 4, r + 5])
        #expect(events.map(\.key) == ["/w/a", "/w/a", "/w/b", "/w/a"])
        guard case .delete(let last, let revision) = events[3] else { Issue.record("expected a delete"); return }
        #expect(last.value == bytes("2") && revision == r + 5)
    }

    @Test(arguments: Backend.all)
    func watchMissesNothingWhileWritesRace(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { _ = try await store.create("/race/\(index)", value: bytes("\(index)")) }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(2))
        let stream = try await store.watch(prefix: "/race/", afterRevision: r)
        try await writers.value
        let events = try await take(200, from: stream)
        #expect(events.map(\.revision) == Array((r + 1)...(r + 200)))
        #expect(Set(events.map(\.key)).count == 200)
    }

    @Test(arguments: Backend.all)
    func concurrentWritesAllLandWithDistinctRevisions(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<500 {
                group.addTask { try await store.create("/c/\(index)", value: bytes("x")).modRevision }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(Set(revisions) == Set((r + 1)...(r + 500)))
        #expect(try await store.range(RangeRequest(prefix: "/c/")).items.count == 500)
    }

    @Test(arguments: Backend.all)
    func compactionDropsHistoryButKeepsState(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        var kv = try await store.create("/k", value: bytes("0"))
        for index in 1...20 { kv = try await store.update("/k", value: bytes("\(index)"), expectedRevision: kv.modRevision) }
        _ = try await store.create("/gone", value: bytes("x"))
        _ = try await store.delete("/gone", expectedRevision: nil)
        try await store.compact(through: r + 15)
        #expect(try await store.compactedRevision() == r + 15)
        #expect(try await store.get("/k") == kv)
        await #expect(throws: StoreError.compacted(compactedRevision: r + 15)) {
            try await store.range(RangeRequest(prefix: "/", revision: r + 10))
        }
        #expect(try await store.range(RangeRequest(prefix: "/", revision: r + 16)).items.map(\.value) == [bytes("15")])
        let stale = try await store.watch(prefix: "/", afterRevision: r + 3)
        await #expect(throws: StoreError.compacted(compactedRevision: r + 15)) { _ = try await take(1, from: stale) }
        let fresh = try await store.watch(prefix: "/", afterRevision: r + 15)
        #expect(try await take(1, from: fresh).map(\.revision) == [r + 16])
    }

    @Test(arguments: Backend.all)
    func slowWatcherIsCutOff(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let stream = try await store.watch(prefix: "/", afterRevision: r)
        let writes = backend.watchBufferLimit + 100
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<64 {
                group.addTask {
                    for index in stride(from: writer, to: writes, by: 64) { _ = try await store.create("/s/\(index)", value: []) }
                }
            }
            try await group.waitForAll()
        }
        await #expect(throws: StoreError.watcherTooSlow) {
            for try await _ in stream {}
        }
    }

    @Test(arguments: Backend.all)
    func progressMarkersFollowEveryEarlierEvent(backend: Backend) async throws {
        let (store, _) = try await backend.fresh()
        let r = try await store.currentRevision()
        let stream = try await store.watch(prefix: "/quiet/", afterRevision: r)
        _ = try await store.create("/quiet/a", value: [])
        _ = try await store.create("/busy/b", value: [])
        try await store.requestProgress()
        let events = try await take(2, from: stream)
        // The marker's revision is the store's newest when it is sent (on etcd, that of the fence it writes).
        #expect(events.first?.revision == r + 1)
        #expect(events.last == .progress(try await store.currentRevision()))
    }

    @Test(arguments: Backend.all)
    func reopeningRestoresStateAndRevision(backend: Backend) async throws {
        let (store, directory) = try await backend.fresh()
        let r = try await store.currentRevision()
        let a = try await store.create("/a", value: bytes("1"))
        _ = try await store.create("/b", value: bytes("2"))
        _ = try await store.delete("/b", expectedRevision: nil)
        let reopened = try await backend.open(directory)
        #expect(try await reopened.currentRevision() == r + 3)
        #expect(try await reopened.get("/a") == a)
        #expect(try await reopened.get("/b") == nil)
        #expect(try await reopened.create("/c", value: []).modRevision == r + 4)
    }
}
