import EtcdStore
import Foundation
import Testing
@testable import RegionStore

struct Widget: StoredRecord, Equatable {
    static let kind = "test.widget"
    var storeKey: String { name }
    var name: String
    var size: Int
}

struct Counter: StoredRecord {
    static let kind = "test.counter"
    var storeKey: String { "only" }
    var value: Int
}

/// Where the region's records are kept: the data dir's SQLite, or etcd (one real member the suite starts).
struct Engine: CustomTestStringConvertible, Sendable {
    let name: String
    /// Opens the records at `place` (a directory, or a root prefix on etcd); again gives the same records.
    let open: @Sendable (_ place: String) async throws -> RegionDatabase

    var testDescription: String { name }

    static let all = [
        Engine(name: "sqlite") { try RegionDatabase(directory: URL(fileURLWithPath: $0)) },
        Engine(name: "etcd") { RegionDatabase(engine: try await EtcdRecordEngine(client: try await SharedEtcd.client(), root: $0)) },
    ]

    func fresh() async throws -> (RegionDatabase, String) {
        let place = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-store-\(UUID())").path
        return (try await open(place), place)
    }
}

/// One etcd for the suite, started by the first test that needs it (the others wait for the same start).
enum SharedEtcd {
    static let started = Task { () throws -> (LocalEtcdCluster, EtcdClient) in
        let cluster = try await LocalEtcdCluster(size: 1)
        return (cluster, try EtcdClient(endpoints: cluster.endpoints))
    }

    static func client() async throws -> EtcdClient { try await started.value.1 }
}

struct RegionDatabaseTests {

    @Test(arguments: Engine.all)
    func insertRefusesATakenKey(engine: Engine) async throws {
        let (db, _) = try await engine.fresh()
        try await db.write { try $0.insert(Widget(name: "a", size: 1)) }
        await #expect(throws: RecordExists(kind: "test.widget", key: "a")) {
            try await db.write { try $0.insert(Widget(name: "a", size: 2)) }
        }
        #expect(try await db.read { try $0.get(Widget.self, "a") } == Widget(name: "a", size: 1))
    }

    @Test(arguments: Engine.all)
    func failedTransactionChangesNothing(engine: Engine) async throws {
        struct Refused: Error {}
        let (db, _) = try await engine.fresh()
        await #expect(throws: Refused.self) {
            try await db.write { tx in
                try tx.insert(Widget(name: "a", size: 1))
                throw Refused()
            }
        }
        #expect(try await db.read { try $0.count(Widget.self) } == 0)
    }

    @Test(arguments: Engine.all)
    func listsKeepCreationOrderAndFilterByPrefix(engine: Engine) async throws {
        let (db, _) = try await engine.fresh()
        try await db.write { tx in
            for name in ["c/1", "a/1", "c/2", "c_3"] { try tx.insert(Widget(name: name, size: 0)) }
            try tx.save(Widget(name: "a/1", size: 5))
        }
        let all = try await db.read { try $0.all(Widget.self) }
        #expect(all.map(\.name) == ["c/1", "a/1", "c/2", "c_3"])
        #expect(all[1].size == 5)
        #expect(try await db.read { try $0.all(Widget.self, keyPrefix: "c/") }.map(\.name) == ["c/1", "c/2"])
        try await db.write { try $0.delete(Widget.self, "c/1") }
        #expect(try await db.read { try $0.count(Widget.self, keyPrefix: "c/") } == 1)
    }

    @Test(arguments: Engine.all)
    func committedWritesAreThereAfterReopening(engine: Engine) async throws {
        let (db, place) = try await engine.fresh()
        try await db.write { tx in
            try tx.insert(Widget(name: "later", size: 1))
            try tx.insert(Widget(name: "kept", size: 7))
        }
        try await db.write { try $0.save(Widget(name: "later", size: 2)) }
        let reopened = try await engine.open(place)
        #expect(try await reopened.read { try $0.get(Widget.self, "kept") } == Widget(name: "kept", size: 7))
        #expect(try await reopened.read { try $0.all(Widget.self) }.map(\.name) == ["later", "kept"])
    }

    /// Two openings of the same records (two replicas, on etcd) that read and write the same record at once
    /// lose no update: one commits, the other runs again on what the first wrote.
    @Test(arguments: Engine.all)
    func concurrentReadModifyWritesLoseNoUpdate(engine: Engine) async throws {
        let (first, place) = try await engine.fresh()
        let second = try await engine.open(place)
        try await first.write { try $0.insert(Counter(value: 0)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                let db = writer % 2 == 0 ? first : second
                group.addTask {
                    for _ in 0..<10 {
                        try await db.write { tx in
                            let counter = try tx.get(Counter.self, "only")!
                            try tx.save(Counter(value: counter.value + 1))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await first.read { try $0.get(Counter.self, "only")?.value } == 80)
        // The other replica has it too, within moments.
        for _ in 0..<100 where try await second.read({ try $0.get(Counter.self, "only")?.value }) != 80 {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await second.read { try $0.get(Counter.self, "only")?.value } == 80)
    }

    /// Concurrent writers share commits; one that throws changes nothing, the others are all there, and each
    /// writer reads its own write once `write` returns.
    @Test(arguments: Engine.all)
    func concurrentWritersAreEachAllOrNothing(engine: Engine) async throws {
        struct Refused: Error {}
        let (db, _) = try await engine.fresh()
        let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<120 {
                group.addTask {
                    do {
                        try await db.write { tx in
                            try tx.insert(Widget(name: "w\(index)", size: index))
                            if index % 3 == 0 { throw Refused() }
                        }
                    } catch is Refused {
                        return true
                    }
                    #expect(try await db.read { try $0.get(Widget.self, "w\(index)") }?.size == index)
                    return false
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(refused == 40)
        let names = Set(try await db.read { try $0.all(Widget.self) }.map(\.name))
        #expect(names == Set((0..<120).filter { $0 % 3 != 0 }.map { "w\($0)" }))
    }

    /// `skiff iam create-access-key` writes the data dir of a running server from another process: the
    /// server's next read sees it, in gets and in lists.
    @Test func aWriteFromAnotherProcessIsReadAtOnce() async throws {
        let (server, place) = try await Engine.all[0].fresh()
        try await server.write { try $0.insert(Widget(name: "first", size: 1)) }
        #expect(try await server.read { try $0.count(Widget.self) } == 1)
        let tool = try RegionDatabase(directory: URL(fileURLWithPath: place))
        try tool.writeNow { tx in
            try tx.insert(Widget(name: "from-tool", size: 2))
            try tx.save(Widget(name: "first", size: 3))
        }
        #expect(try await server.read { try $0.get(Widget.self, "from-tool") } == Widget(name: "from-tool", size: 2))
        #expect(try await server.read { try $0.all(Widget.self) }.map(\.size) == [3, 2])
        // And the server's own next write starts from what the tool left.
        try await server.write { tx in try tx.save(Widget(name: "first", size: tx.get(Widget.self, "from-tool")!.size + 10)) }
        #expect(try tool.writeNow { try $0.get(Widget.self, "first") } == Widget(name: "first", size: 12))
    }
}
