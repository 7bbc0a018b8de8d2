import Foundation
import RegionStore
import Synchronization

/// An access key pair and the identity it signs for.
public struct AccessKey: StoredRecord, Equatable {
    public static let kind = "auth.accessKey"
    public var storeKey: String { accessKeyId }

    public let accessKeyId: String
    public let secretAccessKey: String
    public let identity: Identity
    public let createdAt: Date
    /// Set for STS's temporary credentials: requests must carry it as `X-Amz-Security-Token`.
    public var sessionToken: String? = nil
    public var expiresAt: Date? = nil
}

/// An IAM user of an account; its access keys sign as it.
public struct IAMUser: StoredRecord, Equatable {
    public static let kind = "auth.iamUser"
    public var storeKey: String { "\(identity.account)/\(userName)" }

    public let userName: String
    public let identity: Identity
    public let createdAt: Date
    public var path: String? = nil
}

/// The access keys Skiff accepts, persisted in the region database.
public struct CredentialStore: Sendable {
    /// The convention users know from local AWS emulators: `test`/`test` is the root of this account.
    public static let defaultAccount = "000000000000"
    public static let defaultAccessKeyId = "test"
    public static let defaultSecretAccessKey = "test"

    private let database: RegionDatabase
    private let revocations = Revocations()

    /// Counts deletions of keys and users, so that what remembers a verified credential knows to check it again.
    final class Revocations: Sendable {
        let count = Mutex(0)
    }

    public init(database: RegionDatabase) {
        self.database = database
    }

    /// Changes whenever a key or user is deleted through this store's IAM API.
    public var revocationGeneration: Int { revocations.count.withLock { $0 } }

    func revoked() {
        revocations.count.withLock { $0 += 1 }
    }

    /// Adds the default `test`/`test` key on first start.
    public func ensureDefaultKey() async throws {
        try await database.write { tx in
            guard try tx.get(AccessKey.self, Self.defaultAccessKeyId) == nil else { return }
            try tx.insert(AccessKey(accessKeyId: Self.defaultAccessKeyId,
                                    secretAccessKey: Self.defaultSecretAccessKey,
                                    identity: .root(of: Self.defaultAccount), createdAt: Date()))
        }
    }

    public func accessKey(id: String) async throws -> AccessKey? {
        try await database.read { try $0.get(AccessKey.self, id) }
    }

    /// Creates a new key pair for `userName` in `account`, creating the user if it is new.
    public func createAccessKey(userName: String, account: String = defaultAccount) throws -> AccessKey {
        try Self.validate(userName: userName)
        return try database.writeNow { tx in
            let user: IAMUser
            if let existing = try tx.get(IAMUser.self, "\(account)/\(userName)") {
                user = existing
            } else {
                user = IAMUser(userName: userName,
                               identity: Identity(account: account, arn: "arn:aws:iam::\(account):user/\(userName)",
                                                  userId: "AIDA" + KeyMaterial.randomBase32(count: 17)),
                               createdAt: Date())
                try tx.insert(user)
            }
            let key = AccessKey(accessKeyId: "AKIA" + KeyMaterial.randomBase32(count: 16),
                                secretAccessKey: KeyMaterial.randomSecret(count: 40),
                                identity: user.identity, createdAt: Date())
            try tx.insert(key)
            return key
        }
    }

    /// IAM's rule for user names: 1–64 of `[A-Za-z0-9+=,.@_-]`.
    static func validate(userName: String) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")
        guard (1...64).contains(userName.count), userName.allSatisfy(allowed.contains) else {
            throw InvalidUserName(userName: userName)
        }
    }
}

public struct InvalidUserName: Error, CustomStringConvertible {
    public let userName: String
    public var description: String {
        "invalid user name '\(userName)': use 1 to 64 of the characters A-Z a-z 0-9 + = , . @ _ -"
    }
}

enum KeyMaterial {
    static func randomBase32(count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }

    static func randomSecret(count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        return String((0..<count).map { _ in alphabet.randomElement()! })
    }
}
