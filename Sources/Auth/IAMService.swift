import Foundation
import RegionStore
import Synchronization

/// An error as IAM and STS send them.
public struct IAMError: Error, Equatable, Sendable {
    public let code: String
    public let status: Int
    public let message: String

    public static func noSuchEntity(_ message: String) -> IAMError { IAMError(code: "NoSuchEntity", status: 404, message: message) }
    public static func alreadyExists(_ message: String) -> IAMError { IAMError(code: "EntityAlreadyExists", status: 409, message: message) }
    public static func deleteConflict(_ message: String) -> IAMError { IAMError(code: "DeleteConflict", status: 409, message: message) }
    public static func limitExceeded(_ message: String) -> IAMError { IAMError(code: "LimitExceeded", status: 409, message: message) }
    public static func validation(_ message: String) -> IAMError { IAMError(code: "ValidationError", status: 400, message: message) }
    public static func invalidInput(_ message: String) -> IAMError { IAMError(code: "InvalidInput", status: 400, message: message) }
    public static func malformedPolicy(_ message: String) -> IAMError { IAMError(code: "MalformedPolicyDocument", status: 400, message: message) }
    public static func accessDenied(_ message: String) -> IAMError { IAMError(code: "AccessDenied", status: 403, message: message) }
    public static func invalidIdentityToken(_ message: String) -> IAMError { IAMError(code: "InvalidIdentityToken", status: 400, message: message) }
    public static func expiredToken(_ message: String) -> IAMError { IAMError(code: "ExpiredTokenException", status: 400, message: message) }
}

/// An IAM role: its trust policy and the managed policies attached to it (recorded, not evaluated).
public struct IAMRole: StoredRecord, Equatable {
    public static let kind = "auth.iamRole"
    public var storeKey: String { "\(account)/\(roleName)" }

    public let account: String
    public let roleName: String
    public let path: String
    public let roleId: String
    public let arn: String
    public let createdAt: Date
    public let assumeRolePolicyDocument: String
    public let description: String?
    public let maxSessionDuration: Int
    public var attachedPolicyArns: [String]
}

/// An OpenID Connect provider: whose web identity tokens `AssumeRoleWithWebIdentity` accepts.
public struct OIDCProvider: StoredRecord, Equatable {
    public static let kind = "auth.oidcProvider"
    public var storeKey: String { arn }

    public let arn: String
    /// Without `https://`, as IAM keeps it.
    public let url: String
    public let clientIDs: [String]
    public let thumbprints: [String]
    public let createdAt: Date
}

/// Temporary credentials from STS.
public struct SessionCredentials: Sendable, Equatable {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String
    public let expiration: Date
    public let assumedRoleId: String
    public let arn: String
}

/// What a web identity token says, once its signature is verified by the issuer it names.
public struct WebIdentityClaims: Sendable, Equatable {
    public let issuer: String
    public let subject: String
    public let audiences: [String]
    public let expiresAt: Date

    public init(issuer: String, subject: String, audiences: [String], expiresAt: Date) {
        self.issuer = issuer
        self.subject = subject
        self.audiences = audiences
        self.expiresAt = expiresAt
    }
}

/// Verifies a web identity token's signature and reads its claims; nil when no issuer Skiff serves signed it.
public typealias WebIdentityVerifier = @Sendable (String) async -> WebIdentityClaims?

/// The IAM and STS operations EKS users touch: users and their access keys, roles with trust policies,
/// OIDC providers, and the temporary credentials of `AssumeRole` and `AssumeRoleWithWebIdentity`.
public struct IAMService: Sendable {
    let database: RegionDatabase
    let credentials: CredentialStore

    public init(database: RegionDatabase, credentials: CredentialStore) {
        self.database = database
        self.credentials = credentials
    }

    static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")

    static func validateName(_ name: String, field: String, max: Int) throws(IAMError) {
        guard (1...max).contains(name.count), name.allSatisfy(nameCharacters.contains) else {
            throw .validation("1 validation error detected: Value '\(name)' at '\(field)' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        }
    }

    static func validatePath(_ path: String) throws(IAMError) {
        guard path == "/" || (path.hasPrefix("/") && path.hasSuffix("/") && path.count <= 512 && !path.contains("//")) else {
            throw .validation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
        }
    }

    // MARK: Users

    public func createUser(account: String, userName: String, path: String?) async throws -> IAMUser {
        try Self.validateName(userName, field: "userName", max: 64)
        let path = path ?? "/"
        try Self.validatePath(path)
        return try await database.write { tx in
            guard try tx.get(IAMUser.self, "\(account)/\(userName)") == nil else {
                throw IAMError.alreadyExists("User with name \(userName) already exists.")
            }
            let user = IAMUser(userName: userName, identity: Identity(account: account, arn: "arn:aws:iam::\(account):user\(path)\(userName)",
                                                                      userId: "AIDA" + KeyMaterial.randomBase32(count: 17)),
                               createdAt: Date(), path: path)
            try tx.insert(user)
            return user
        }
    }

    public func user(account: String, userName: String) async throws -> IAMUser {
        guard let user = try await database.read({ try $0.get(IAMUser.self, "\(account)/\(userName)") }) else {
            throw IAMError.noSuchEntity("The user with name \(userName) cannot be found.")
        }
        return user
    }

    public func users(account: String, pathPrefix: String?) async throws -> [IAMUser] {
        try await database.read { try $0.all(IAMUser.self, keyPrefix: account + "/") }
            .filter { ($0.path ?? "/").hasPrefix(pathPrefix ?? "/") }.sorted { $0.userName < $1.userName }
    }

    public func deleteUser(account: String, userName: String) async throws {
        try await database.write { tx in
            guard let user = try tx.get(IAMUser.self, "\(account)/\(userName)") else {
                throw IAMError.noSuchEntity("The user with name \(userName) cannot be found.")
            }
            guard try tx.all(AccessKey.self).allSatisfy({ $0.identity.arn != user.identity.arn }) else {
                throw IAMError.deleteConflict("Cannot delete entity, must delete access keys first.")
            }
            try tx.delete(IAMUser.self, user.storeKey)
        }
        credentials.revoked()
    }

    // MARK: Access keys

    /// IAM allows two access keys per user.
    static let keysPerUser = 2

    /// A new key for `userName`, or for the caller itself when nil.
    public func createAccessKey(caller: Identity, userName: String?) async throws -> AccessKey {
        try await database.write { tx in
            let identity = try Self.keyOwner(tx.reader, caller: caller, userName: userName)
            let existing = try tx.all(AccessKey.self).filter { $0.identity.arn == identity.arn && $0.sessionToken == nil }
            guard existing.count < Self.keysPerUser else {
                throw IAMError.limitExceeded("Cannot exceed quota for AccessKeysPerUser: \(Self.keysPerUser)")
            }
            let key = AccessKey(accessKeyId: "AKIA" + KeyMaterial.randomBase32(count: 16), secretAccessKey: KeyMaterial.randomSecret(count: 40),
                                identity: identity, createdAt: Date())
            try tx.insert(key)
            return key
        }
    }

    public func accessKeys(caller: Identity, userName: String?) async throws -> [AccessKey] {
        try await database.read { reader in
            let identity = try Self.keyOwner(reader, caller: caller, userName: userName)
            return try reader.all(AccessKey.self).filter { $0.identity.arn == identity.arn && $0.sessionToken == nil }
        }
    }

    public func deleteAccessKey(caller: Identity, userName: String?, accessKeyId: String) async throws {
        try await database.write { tx in
            let identity = try Self.keyOwner(tx.reader, caller: caller, userName: userName)
            guard let key = try tx.get(AccessKey.self, accessKeyId), key.identity.arn == identity.arn else {
                throw IAMError.noSuchEntity("The Access Key with id \(accessKeyId) cannot be found.")
            }
            try tx.delete(AccessKey.self, key.storeKey)
        }
        credentials.revoked()
    }

    /// The identity whose keys an access-key call is about: the named user of the caller's account, or the caller.
    static func keyOwner(_ reader: RecordReader, caller: Identity, userName: String?) throws -> Identity {
        guard let userName else { return caller }
        guard let user = try reader.get(IAMUser.self, "\(caller.account)/\(userName)") else {
            throw IAMError.noSuchEntity("The user with name \(userName) cannot be found.")
        }
        return user.identity
    }

    // MARK: Roles

    public func createRole(account: String, roleName: String, path: String?, assumeRolePolicyDocument: String,
                           description: String?, maxSessionDuration: Int?) async throws -> IAMRole {
        try Self.validateName(roleName, field: "roleName", max: 64)
        let path = path ?? "/"
        try Self.validatePath(path)
        do {
            _ = try TrustPolicy(document: assumeRolePolicyDocument)
        } catch {
            throw IAMError.malformedPolicy(error.message)
        }
        let duration = maxSessionDuration ?? 3600
        guard (3600...43200).contains(duration) else {
            throw IAMError.validation("1 validation error detected: Value '\(duration)' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200")
        }
        return try await database.write { tx in
            guard try tx.get(IAMRole.self, "\(account)/\(roleName)") == nil else {
                throw IAMError.alreadyExists("Role with name \(roleName) already exists.")
            }
            let role = IAMRole(account: account, roleName: roleName, path: path, roleId: "AROA" + KeyMaterial.randomBase32(count: 17),
                               arn: "arn:aws:iam::\(account):role\(path)\(roleName)", createdAt: Date(),
                               assumeRolePolicyDocument: assumeRolePolicyDocument, description: description,
                               maxSessionDuration: duration, attachedPolicyArns: [])
            try tx.insert(role)
            return role
        }
    }

    public func role(account: String, roleName: String) async throws -> IAMRole {
        guard let role = try await database.read({ try $0.get(IAMRole.self, "\(account)/\(roleName)") }) else {
            throw IAMError.noSuchEntity("The role with name \(roleName) cannot be found.")
        }
        return role
    }

    public func roles(account: String, pathPrefix: String?) async throws -> [IAMRole] {
        try await database.read { try $0.all(IAMRole.self, keyPrefix: account + "/") }
            .filter { $0.path.hasPrefix(pathPrefix ?? "/") }.sorted { $0.roleName < $1.roleName }
    }

    public func deleteRole(account: String, roleName: String) async throws {
        try await database.write { tx in
            guard let role = try tx.get(IAMRole.self, "\(account)/\(roleName)") else {
                throw IAMError.noSuchEntity("The role with name \(roleName) cannot be found.")
            }
            guard role.attachedPolicyArns.isEmpty else {
                throw IAMError.deleteConflict("Cannot delete entity, must detach all policies first.")
            }
            try tx.delete(IAMRole.self, role.storeKey)
        }
    }

    public func attachRolePolicy(account: String, roleName: String, policyArn: String) async throws {
        guard policyArn.hasPrefix("arn:aws:iam::aws:policy/"), policyArn.count > "arn:aws:iam::aws:policy/".count else {
            throw IAMError.noSuchEntity("Policy \(policyArn) does not exist or is not attachable.")
        }
        try await updateRole(account: account, roleName: roleName) { role in
            if !role.attachedPolicyArns.contains(policyArn) { role.attachedPolicyArns.append(policyArn) }
        }
    }

    public func detachRolePolicy(account: String, roleName: String, policyArn: String) async throws {
        try await updateRole(account: account, roleName: roleName) { role in
            guard let index = role.attachedPolicyArns.firstIndex(of: policyArn) else {
                throw IAMError.noSuchEntity("Policy \(policyArn) was not found.")
            }
            role.attachedPolicyArns.remove(at: index)
        }
    }

    private func updateRole(account: String, roleName: String, _ change: @Sendable @escaping (inout IAMRole) throws -> Void) async throws {
        try await database.write { tx in
            guard var role = try tx.get(IAMRole.self, "\(account)/\(roleName)") else {
                throw IAMError.noSuchEntity("The role with name \(roleName) cannot be found.")
            }
            try change(&role)
            try tx.save(role)
        }
    }

    // MARK: OpenID Connect providers

    public func createOpenIDConnectProvider(account: String, url: String, clientIDs: [String], thumbprints: [String]) async throws -> OIDCProvider {
        guard url.hasPrefix("https://"), let host = URL(string: url)?.host, !host.isEmpty else {
            throw IAMError.invalidInput("The URL \(url) is not a valid https URL.")
        }
        let trimmed = String(url.dropFirst("https://".count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        return try await database.write { tx in
            let arn = "arn:aws:iam::\(account):oidc-provider/\(trimmed)"
            guard try tx.get(OIDCProvider.self, arn) == nil else {
                throw IAMError.alreadyExists("Provider with url \(url) already exists.")
            }
            let provider = OIDCProvider(arn: arn, url: trimmed, clientIDs: clientIDs, thumbprints: thumbprints, createdAt: Date())
            try tx.insert(provider)
            return provider
        }
    }

    public func openIDConnectProvider(arn: String) async throws -> OIDCProvider {
        guard let provider = try await database.read({ try $0.get(OIDCProvider.self, arn) }) else {
            throw IAMError.noSuchEntity("OpenIDConnect Provider not found for arn \(arn)")
        }
        return provider
    }

    public func openIDConnectProviders(account: String) async throws -> [OIDCProvider] {
        try await database.read { try $0.all(OIDCProvider.self, keyPrefix: "arn:aws:iam::\(account):oidc-provider/") }
    }

    public func deleteOpenIDConnectProvider(arn: String) async throws {
        try await database.write { tx in
            guard try tx.get(OIDCProvider.self, arn) != nil else {
                throw IAMError.noSuchEntity("OpenIDConnect Provider not found for arn \(arn)")
            }
            try tx.delete(OIDCProvider.self, arn)
        }
    }

    // MARK: STS

    static func roleArnParts(_ arn: String) throws(IAMError) -> (account: String, name: String) {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[4].count == 12, parts[5].hasPrefix("role/"),
              let name = parts[5].split(separator: "/").last else {
            throw .validation("\(arn) is invalid")
        }
        return (String(parts[4]), String(name))
    }

    static func validateSession(_ name: String, duration: Int?, role: IAMRole) throws(IAMError) -> Int {
        guard (2...64).contains(name.count), name.allSatisfy(nameCharacters.contains) else {
            throw .validation("1 validation error detected: Value '\(name)' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")
        }
        let seconds = duration ?? 3600
        guard seconds >= 900, seconds <= role.maxSessionDuration else {
            throw .validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        }
        return seconds
    }

    /// `AssumeRole`: temporary credentials for the role, if its trust policy trusts the caller.
    public func assumeRole(caller: Identity, roleArn: String, sessionName: String, durationSeconds: Int?,
                           externalId: String?) async throws -> SessionCredentials {
        let (account, name) = try Self.roleArnParts(roleArn)
        let found = try? await role(account: account, roleName: name)
        guard let role = found, role.arn == roleArn || Self.ignoringPath(role.arn) == roleArn,
              let policy = try? TrustPolicy(document: role.assumeRolePolicyDocument),
              policy.allows("sts:AssumeRole", by: .aws(arn: caller.arn, account: caller.account),
                            context: externalId.map { ["sts:ExternalId": $0] } ?? [:]) else {
            throw IAMError.accessDenied("User: \(caller.arn) is not authorized to perform: sts:AssumeRole on resource: \(roleArn)")
        }
        let seconds = try Self.validateSession(sessionName, duration: durationSeconds, role: role)
        return try await issueSession(role: role, sessionName: sessionName, seconds: seconds)
    }

    /// `AssumeRoleWithWebIdentity`: temporary credentials for a web identity (a service account's token) whose
    /// issuer is a registered OIDC provider and whose subject and audience the role's trust policy accepts.
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, token: String, durationSeconds: Int?,
                                          verify: WebIdentityVerifier) async throws -> (SessionCredentials, WebIdentityClaims, OIDCProvider) {
        guard let claims = await verify(token) else {
            throw IAMError.invalidIdentityToken("Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements")
        }
        guard claims.expiresAt > Date() else { throw IAMError.expiredToken("Token expired: current date/time is after the token's expiry") }
        let (account, name) = try Self.roleArnParts(roleArn)
        let issuer = String(claims.issuer.dropFirst(claims.issuer.hasPrefix("https://") ? "https://".count : 0))
        let providerArn = "arn:aws:iam::\(account):oidc-provider/\(issuer)"
        guard let provider = try? await openIDConnectProvider(arn: providerArn) else {
            throw IAMError.invalidIdentityToken("No OpenIDConnect provider found in your account for \(claims.issuer)")
        }
        guard claims.audiences.contains(where: provider.clientIDs.contains) else {
            throw IAMError.invalidIdentityToken("Incorrect token audience")
        }
        let found = try? await role(account: account, roleName: name)
        let context = ["\(issuer):sub": claims.subject, "\(issuer):aud": claims.audiences.first ?? ""]
        guard let role = found, let policy = try? TrustPolicy(document: role.assumeRolePolicyDocument),
              policy.allows("sts:AssumeRoleWithWebIdentity", by: .federated(providerArn), context: context) else {
            throw IAMError.accessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity")
        }
        let seconds = try Self.validateSession(sessionName, duration: durationSeconds, role: role)
        return (try await issueSession(role: role, sessionName: sessionName, seconds: seconds), claims, provider)
    }

    /// Credentials for a role that an AWS service assumes on a customer's behalf (EKS Pod Identity), if the
    /// role's trust policy lets the service assume it.
    public func assumeRole(asService service: String, roleArn: String, sessionName: String) async throws -> SessionCredentials {
        let (account, name) = try Self.roleArnParts(roleArn)
        let found = try? await role(account: account, roleName: name)
        guard let role = found, let policy = try? TrustPolicy(document: role.assumeRolePolicyDocument),
              policy.allows("sts:AssumeRole", by: .service(service)) else {
            throw IAMError.accessDenied("\(service) is not authorized to perform: sts:AssumeRole on resource: \(roleArn)")
        }
        return try await issueSession(role: role, sessionName: String(sessionName.prefix(64)), seconds: 6 * 3600)
    }

    static func ignoringPath(_ arn: String) -> String {
        guard let range = arn.range(of: ":role/") else { return arn }
        return String(arn[..<range.upperBound]) + (arn[range.upperBound...].split(separator: "/").last.map(String.init) ?? "")
    }

    private func issueSession(role: IAMRole, sessionName: String, seconds: Int) async throws -> SessionCredentials {
        let expiration = Date().addingTimeInterval(TimeInterval(seconds))
        let identity = Identity(account: role.account, arn: "arn:aws:sts::\(role.account):assumed-role/\(role.roleName)/\(sessionName)",
                                userId: "\(role.roleId):\(sessionName)")
        let key = AccessKey(accessKeyId: "ASIA" + KeyMaterial.randomBase32(count: 16), secretAccessKey: KeyMaterial.randomSecret(count: 40),
                            identity: identity, createdAt: Date(), sessionToken: KeyMaterial.randomSecret(count: 356), expiresAt: expiration)
        try await database.write { tx in
            // Expired sessions go as new ones come.
            for old in try tx.all(AccessKey.self) where (old.expiresAt ?? .distantFuture) < Date() {
                try tx.delete(AccessKey.self, old.storeKey)
            }
            try tx.insert(key)
        }
        return SessionCredentials(accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, sessionToken: key.sessionToken ?? "",
                                  expiration: expiration, assumedRoleId: identity.userId, arn: identity.arn)
    }
}
