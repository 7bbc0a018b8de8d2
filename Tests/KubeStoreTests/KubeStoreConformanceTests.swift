import Foundation
import Testing
@testable import KubeStore

/// A backend the conformance suite runs against; the etcd backend joins this list.
struct Backend: CustomTestStringConvertible, Sendable {
    let name: String
    let open: @Sendable (_ directory: URL) throws -> any KubeStore

    var testDescription: String { name }

    static let all = [
        Backend(name: "sqlite") { try SQLiteKubeStore(path: $0.appendingPathComponent("cluster.sqlite").path) },
    ]

    func fresh() throws -> (any KubeStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubestore-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (try open(directory), directory)
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

struct KubeStoreConformanceTests {
    @Test(arguments: Backend.all)
    func everyWriteGetsTheNextRevision(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        #expect(try await store.currentRevision() == 0)
        let a = try await store.create("/a", value: bytes("1"))
        let b = try await store.create("/b", value: bytes("1"))
        let a2 = try await store.update("/a", value: bytes("2"), expectedRevision: a.modRevision)
        let (_, deleted) = try await store.delete("/b", expectedRevision: nil)
        #expect([a.modRevision, b.modRevision, a2.modRevision, deleted] == [1, 2, 3, 4])
        #expect(a2.createRevision == 1 && a2.version == 2)
        #expect(try await store.currentRevision() == 4)
    }

    @Test(arguments: Backend.all)
    func createRefusesAnExistingKey(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        _ = try await store.create("/a", value: bytes("1"))
        await #expect(throws: StoreError.keyExists("/a")) { try await store.create("/a", value: bytes("2")) }
        #expect(try await store.get("/a")?.value == bytes("1"))
        #expect(try await store.currentRevision() == 1)
    }

    @Test(arguments: Backend.all)
    func compareAndSwapRefusesAStaleRevision(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
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
        let (store, _) = try backend.fresh()
        let created = try await store.create("/a", value: bytes("v1"))
        let (deleted, revision) = try await store.delete("/a", expectedRevision: created.modRevision)
        #expect(deleted.value == bytes("v1") && revision == 2)
        #expect(try await store.get("/a") == nil)
        let again = try await store.create("/a", value: bytes("v2"))
        #expect(again.createRevision == 3 && again.version == 1)
    }

    @Test(arguments: Backend.all)
    func rangesAreInKeyOrderAndPage(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        for key in ["/pods/b", "/pods/a", "/pods/c", "/podsx/z", "/pod/y"] { _ = try await store.create(key, value: bytes(key)) }
        let all = try await store.range(RangeRequest(prefix: "/pods/"))
        #expect(all.items.map(\.key) == ["/pods/a", "/pods/b", "/pods/c"])
        #expect(!all.more && all.revision == 5)
        let first = try await store.range(RangeRequest(prefix: "/pods/", limit: 2))
        #expect(first.items.map(\.key) == ["/pods/a", "/pods/b"] && first.more)
        // The next page at the first page's revision does not see later writes.
        _ = try await store.create("/pods/d", value: bytes("d"))
        let second = try await store.range(RangeRequest(prefix: "/pods/", revision: first.revision, limit: 2, startAfter: "/pods/b"))
        #expect(second.items.map(\.key) == ["/pods/c"] && !second.more)
    }

    @Test(arguments: Backend.all)
    func pastRevisionsReadAsTheyWere(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        let v1 = try await store.create("/a", value: bytes("1"))
        _ = try await store.update("/a", value: bytes("2"), expectedRevision: nil)
        _ = try await store.delete("/a", expectedRevision: nil)
        #expect(try await store.range(RangeRequest(prefix: "/", revision: 1)).items == [v1])
        #expect(try await store.range(RangeRequest(prefix: "/", revision: 2)).items.map(\.value) == [bytes("2")])
        #expect(try await store.range(RangeRequest(prefix: "/", revision: 3)).items.isEmpty)
        await #expect(throws: StoreError.futureRevision(9)) { try await store.range(RangeRequest(prefix: "/", revision: 9)) }
    }

    @Test(arguments: Backend.all)
    func watchSendsHistoryThenLiveChangesInOrder(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        let a = try await store.create("/w/a", value: bytes("1"))
        _ = try await store.create("/other", value: bytes("x"))
        _ = try await store.update("/w/a", value: bytes("2"), expectedRevision: a.modRevision)
        let stream = try await store.watch(prefix: "/w/", afterRevision: 0)
        _ = try await store.create("/w/b", value: bytes("3"))
        _ = try await store.delete("/w/a", expectedRevision: nil)
        let events = try await take(4, from: stream)
        #expect(events.map(\.revision) == [1, 3, 4, 5])
        #expect(events.map(\.key) == ["/w/a", "/w/a", "/w/b", "/w/a"])
        guard case .delete(let last, let revision) = events[3] else { Issue.record("expected a delete"); return }
        #expect(last.value == bytes("2") && revision == 5)
    }

    @Test(arguments: Backend.all)
    func watchMissesNothingWhileWritesRace(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { _ = try await store.create("/race/\(index)", value: bytes("\(index)")) }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .milliseconds(2))
        let stream = try await store.watch(prefix: "/race/", afterRevision: 0)
        try await writers.value
        let events = try await take(200, from: stream)
        #expect(events.map(\.revision) == Array(1...200))
        #expect(Set(events.map(\.key)).count == 200)
    }

    @Test(arguments: Backend.all)
    func concurrentWritesAllLandWithDistinctRevisions(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        let revisions = try await withThrowingTaskGroup(of: Int64.self) { group in
            for index in 0..<500 {
                group.addTask { try await store.create("/c/\(index)", value: bytes("x")).modRevision }
            }
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(Set(revisions) == Set(1...500))
        #expect(try await store.range(RangeRequest(prefix: "/c/")).items.count == 500)
    }

    @Test(arguments: Backend.all)
    func compactionDropsHistoryButKeepsState(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        var kv = try await store.create("/k", value: bytes("0"))
        for index in 1...20 { kv = try await store.update("/k", value: bytes("\(index)"), expectedRevision: kv.modRevision) }
        _ = try await store.create("/gone", value: bytes("x"))
        _ = try await store.delete("/gone", expectedRevision: nil)
        try await store.compact(through: 15)
        #expect(try await store.compactedRevision() == 15)
        #expect(try await store.get("/k") == kv)
        await #expect(throws: StoreError.compacted(compactedRevision: 15)) {
            try await store.range(RangeRequest(prefix: "/", revision: 10))
        }
        #expect(try await store.range(RangeRequest(prefix: "/", revision: 16)).items.map(\.value) == [bytes("15")])
        let stale = try await store.watch(prefix: "/", afterRevision: 3)
        await #expect(throws: StoreError.compacted(compactedRevision: 15)) { _ = try await take(1, from: stale) }
        let fresh = try await store.watch(prefix: "/", afterRevision: 15)
        #expect(try await take(1, from: fresh).map(\.revision) == [16])
    }

    @Test(arguments: Backend.all)
    func slowWatcherIsCutOff(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        let stream = try await store.watch(prefix: "/", afterRevision: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<(WatchHub.bufferLimit + 100) {
                group.addTask { _ = try await store.create("/s/\(index)", value: []) }
            }
            try await group.waitForAll()
        }
        await #expect(throws: StoreError.watcherTooSlow) {
            for try await _ in stream {}
        }
    }

    @Test(arguments: Backend.all)
    func progressMarkersFollowEveryEarlierEvent(backend: Backend) async throws {
        let (store, _) = try backend.fresh()
        let stream = try await store.watch(prefix: "/quiet/", afterRevision: 0)
        _ = try await store.create("/quiet/a", value: [])
        _ = try await store.create("/busy/b", value: [])
        try await store.requestProgress()
        let events = try await take(2, from: stream)
        #expect(events.map(\.revision) == [1, 2])
        #expect(events.last == .progress(2))
    }

    @Test(arguments: Backend.all)
    func reopeningRestoresStateAndRevision(backend: Backend) async throws {
        let (store, directory) = try backend.fresh()
        let a = try await store.create("/a", value: bytes("1"))
        _ = try await store.create("/b", value: bytes("2"))
        _ = try await store.delete("/b", expectedRevision: nil)
        let reopened = try backend.open(directory)
        #expect(try await reopened.currentRevision() == 3)
        #expect(try await reopened.get("/a") == a)
        #expect(try await reopened.get("/b") == nil)
        #expect(try await reopened.create("/c", value: []).modRevision == 4)
    }
}
