import Foundation
import RegionStore

/// An access key pair and the identity it signs for.
public struct AccessKey: StoredRecord, Equatable {
    public static let kind = "auth.accessKey"
    public var storeKey: String { accessKeyId }

    public let accessKeyId: String
    public let secretAccessKey: String
    public let identity: Identity
    public let createdAt: Date
}

/// An IAM user of an account; its access keys sign as it.
public struct IAMUser: StoredRecord, Equatable {
    public static let kind = "auth.iamUser"
    public var storeKey: String { "\(identity.account)/\(userName)" }

    public let userName: String
    public let identity: Identity
    public let createdAt: Date
}

/// The access keys Skiff accepts, persisted in the region database.
public struct CredentialStore: Sendable {
    /// The convention users know from local AWS emulators: `test`/`test` is the root of this account.
    public static let defaultAccount = "000000000000"
    public static let defaultAccessKeyId = "test"
    public static let defaultSecretAccessKey = "test"

    private let database: RegionDatabase

    public init(database: RegionDatabase) {
        self.database = database
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
