import Foundation
import Testing
@testable import RegionStore

struct Widget: StoredRecord, Equatable {
    static let kind = "test.widget"
    var storeKey: String { name }
    var name: String
    var size: Int
}

struct RegionDatabaseTests {
    func database() throws -> (RegionDatabase, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-store-\(UUID())")
        return (try RegionDatabase(directory: directory), directory)
    }

    @Test func insertRefusesATakenKey() async throws {
        let (db, _) = try database()
        try await db.write { try $0.insert(Widget(name: "a", size: 1)) }
        await #expect(throws: RecordExists(kind: "test.widget", key: "a")) {
            try await db.write { try $0.insert(Widget(name: "a", size: 2)) }
        }
        #expect(try await db.read { try $0.get(Widget.self, "a") } == Widget(name: "a", size: 1))
    }

    @Test func failedTransactionChangesNothing() async throws {
        struct Refused: Error {}
        let (db, _) = try database()
        await #expect(throws: Refused.self) {
            try await db.write { tx in
                try tx.insert(Widget(name: "a", size: 1))
                throw Refused()
            }
        }
        #expect(try await db.read { try $0.count(Widget.self) } == 0)
    }

    @Test func listsKeepCreationOrderAndFilterByPrefix() async throws {
        let (db, _) = try database()
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

    @Test func committedWritesAreThereAfterReopening() async throws {
        let (db, directory) = try database()
        try await db.write { try $0.insert(Widget(name: "kept", size: 7)) }
        let reopened = try RegionDatabase(directory: directory)
        #expect(try await reopened.read { try $0.get(Widget.self, "kept") } == Widget(name: "kept", size: 7))
    }
}
