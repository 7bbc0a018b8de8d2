import Foundation
import RegionStore
import Testing
@testable import Auth

struct CredentialStoreTests {
    func store() throws -> (CredentialStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-auth-\(UUID())")
        return (CredentialStore(database: try RegionDatabase(directory: directory)), directory)
    }

    @Test func defaultKeyIsTheAccountRoot() async throws {
        let (store, _) = try store()
        try await store.ensureDefaultKey()
        try await store.ensureDefaultKey()
        let key = try #require(try await store.accessKey(id: "test"))
        #expect(key.secretAccessKey == "test")
        #expect(key.identity == Identity(account: "000000000000", arn: "arn:aws:iam::000000000000:root", userId: "000000000000"))
    }

    @Test func createdKeysSignAsTheirUserAndSurviveReopening() async throws {
        let (store, directory) = try store()
        let first = try store.createAccessKey(userName: "alice")
        let second = try store.createAccessKey(userName: "alice")
        #expect(first.accessKeyId.hasPrefix("AKIA") && first.accessKeyId.count == 20)
        #expect(first.secretAccessKey.count == 40)
        #expect(first.identity.arn == "arn:aws:iam::000000000000:user/alice")
        #expect(first.identity.userId.hasPrefix("AIDA"))
        #expect(second.identity == first.identity)
        #expect(second.accessKeyId != first.accessKeyId)

        let reopened = CredentialStore(database: try RegionDatabase(directory: directory))
        let stored = try #require(try await reopened.accessKey(id: first.accessKeyId))
        #expect(stored.secretAccessKey == first.secretAccessKey && stored.identity == first.identity)
    }

    @Test func invalidUserNamesAreRefused() throws {
        let (store, _) = try store()
        #expect(throws: InvalidUserName.self) { try store.createAccessKey(userName: "no spaces") }
        #expect(throws: InvalidUserName.self) { try store.createAccessKey(userName: "") }
    }
}
