import Auth
import Crypto
import Foundation
import RegionStore
import Synchronization

/// An error as KMS sends it.
public struct KMSError: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    static func notFound(_ id: String) -> KMSError { KMSError("NotFoundException", "Key '\(id)' does not exist") }
}

/// One version of a key's material, sealed under the data dir's root key: KMS never hands it out.
struct KeyMaterial: Codable, Sendable, Equatable {
    let id: String
    let sealed: Data
    let created: Date
}

/// A KMS key as the region keeps it.
struct KeyRecord: StoredRecord, Equatable {
    static let kind = "kms.key"
    var storeKey: String { keyId }

    let keyId: String
    let arn: String
    let created: Date
    var description: String
    var state: String
    var deletionDate: Date?
    var pendingWindowInDays: Int?
    var rotationPeriodInDays: Int?
    var nextRotationDate: Date?
    var policy: String
    /// Oldest first; new ciphertext uses the last.
    var materials: [KeyMaterial]
}

struct AliasRecord: StoredRecord, Equatable {
    static let kind = "kms.alias"
    var storeKey: String { name }

    let name: String
    var targetKeyId: String
    let created: Date
    var updated: Date
}

/// `KeyMetadata` as `DescribeKey` returns it.
public struct KeyMetadata: Codable, Sendable, Equatable {
    public let AWSAccountId: String
    public let KeyId: String
    public let Arn: String
    public let CreationDate: Date
    public let Enabled: Bool
    public let Description: String
    public let KeyUsage: String
    public let KeyState: String
    public let DeletionDate: Date?
    public let PendingDeletionWindowInDays: Int?
    public let Origin: String
    public let KeyManager: String
    public let CustomerMasterKeySpec: String
    public let KeySpec: String
    public let EncryptionAlgorithms: [String]
    public let MultiRegion: Bool
    public let CurrentKeyMaterialId: String
}

public struct AliasEntry: Codable, Sendable, Equatable {
    public let AliasName: String
    public let AliasArn: String
    public let TargetKeyId: String
    public let CreationDate: Date
    public let LastUpdatedDate: Date
}

/// Symmetric KMS keys for one region: key material generated here and kept sealed under a root key in the
/// data dir (`kms-root.key`), never returned; ciphertext blobs name their key and material version, so a
/// rotated key still decrypts what it encrypted before. The key policy decides who may use a key.
public final class KMSService: Sendable {
    static let blobMagic: [UInt8] = Array("SKMS".utf8)
    static let encryptionAlgorithm = "SYMMETRIC_DEFAULT"

    private let database: RegionDatabase
    private let rootKey: SymmetricKey
    public let region: String
    public let account: String
    /// Opened material by key and version, so that each use does not unseal it again.
    private let opened = Mutex<[String: SymmetricKey]>([:])
    /// Each key's state by ARN as last written here, for the checks Skiff's own callers make on every use.
    private let states = Mutex<[String: (state: String, deletionDate: Date?)]>([:])

    /// - Parameter sharedRootKey: the root key replicas of the region share (kept in etcd with the records it
    ///   protects, as `kms-root.key` sits beside `region.sqlite`); nil keeps it in the data dir.
    public init(database: RegionDatabase, directory: URL, region: String, account: String, sharedRootKey: Data? = nil) throws {
        self.database = database
        self.region = region
        self.account = account
        let path = directory.appendingPathComponent("kms-root.key")
        if let sharedRootKey, sharedRootKey.count == 32 {
            rootKey = SymmetricKey(data: sharedRootKey)
        } else if let existing = try? Data(contentsOf: path), existing.count == 32 {
            rootKey = SymmetricKey(data: existing)
        } else {
            let key = SymmetricKey(size: .bits256)
            let bytes = key.withUnsafeBytes { Data($0) }
            FileManager.default.createFile(atPath: path.path, contents: bytes, attributes: [.posixPermissions: 0o600])
            rootKey = key
        }
    }

    // MARK: Keys

    public func createKey(description: String?, policy: String?, keyUsage: String?, keySpec: String?, caller: String) async throws -> KeyMetadata {
        if let keyUsage, keyUsage != "ENCRYPT_DECRYPT" {
            throw KMSError("UnsupportedOperationException", "Skiff's KMS makes symmetric encryption keys only; KeyUsage \(keyUsage) is not supported.")
        }
        if let keySpec, keySpec != "SYMMETRIC_DEFAULT" {
            throw KMSError("UnsupportedOperationException", "Skiff's KMS makes symmetric encryption keys only; KeySpec \(keySpec) is not supported.")
        }
        let document = policy ?? Self.defaultPolicy(account: account)
        do {
            _ = try TrustPolicy(document: document)
        } catch {
            throw KMSError("MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
        }
        let keyId = UUID().uuidString.lowercased()
        let record = KeyRecord(keyId: keyId, arn: "arn:aws:kms:\(region):\(account):key/\(keyId)", created: Date(), description: description ?? "",
                               state: "Enabled", policy: document, materials: [try newMaterial()])
        try await database.write { tx in try tx.insert(record) }
        return metadata(record)
    }

    public func describeKey(_ id: String) async throws -> KeyMetadata {
        metadata(try await key(id))
    }

    public func listKeys(limit: Int?, marker: String?) async throws -> (keys: [(id: String, arn: String)], nextMarker: String?) {
        let all = try await database.read { reader in try reader.all(KeyRecord.self) }.filter { !Self.deleted($0) }
        let page = try Self.page(all.map { (id: $0.keyId, arn: $0.arn) }, key: \.id, limit: limit, marker: marker)
        return page
    }

    public func setEnabled(_ id: String, _ enabled: Bool) async throws {
        try await update(id) { record in
            guard record.state != "PendingDeletion" else { throw Self.invalidState(record) }
            record.state = enabled ? "Enabled" : "Disabled"
        }
    }

    public func scheduleDeletion(_ id: String, pendingWindowInDays: Int?) async throws -> KeyRecordDeletion {
        let days = pendingWindowInDays ?? 30
        guard (7...30).contains(days) else {
            throw KMSError("ValidationException", "1 validation error detected: Value '\(days)' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30")
        }
        let record = try await update(id) { record in
            guard record.state != "PendingDeletion" else { throw Self.invalidState(record) }
            record.state = "PendingDeletion"
            record.pendingWindowInDays = days
            record.deletionDate = Date().addingTimeInterval(Double(days) * 86_400)
        }
        return KeyRecordDeletion(keyId: record.arn, deletionDate: record.deletionDate!, keyState: record.state, pendingWindowInDays: days)
    }

    public struct KeyRecordDeletion: Sendable {
        public let keyId: String
        public let deletionDate: Date
        public let keyState: String
        public let pendingWindowInDays: Int
    }

    public func cancelDeletion(_ id: String) async throws -> String {
        try await update(id) { record in
            guard record.state == "PendingDeletion" else { throw Self.invalidState(record) }
            // As KMS does: a key whose deletion is cancelled comes back disabled.
            record.state = "Disabled"
            record.deletionDate = nil
            record.pendingWindowInDays = nil
        }.arn
    }

    // MARK: Rotation

    public func enableRotation(_ id: String, periodInDays: Int?) async throws {
        let days = periodInDays ?? 365
        guard (90...2560).contains(days) else {
            throw KMSError("ValidationException", "The rotation period must be between 90 and 2560 days.")
        }
        try await update(id) { record in
            guard record.state == "Enabled" else { throw record.state == "Disabled" ? Self.disabled(record) : Self.invalidState(record) }
            record.rotationPeriodInDays = days
            record.nextRotationDate = Date().addingTimeInterval(Double(days) * 86_400)
        }
    }

    public func disableRotation(_ id: String) async throws {
        try await update(id) { record in
            guard record.state == "Enabled" else { throw record.state == "Disabled" ? Self.disabled(record) : Self.invalidState(record) }
            record.rotationPeriodInDays = nil
            record.nextRotationDate = nil
        }
    }

    public func rotationStatus(_ id: String) async throws -> (enabled: Bool, keyId: String, period: Int?, next: Date?) {
        let record = try await key(id)
        guard record.state != "PendingDeletion" else { throw Self.invalidState(record) }
        return (record.rotationPeriodInDays != nil, record.arn, record.rotationPeriodInDays, record.nextRotationDate)
    }

    /// New material for the key now; what it encrypted before stays decryptable.
    public func rotateOnDemand(_ id: String) async throws -> String {
        let material = try newMaterial()
        return try await update(id) { record in
            guard record.state == "Enabled" else { throw record.state == "Disabled" ? Self.disabled(record) : Self.invalidState(record) }
            record.materials.append(material)
        }.arn
    }

    // MARK: Aliases

    public func createAlias(_ name: String, targetKeyId: String) async throws {
        guard name.hasPrefix("alias/"), name.count > 6, !name.hasPrefix("alias/aws/"),
              name.dropFirst(6).allSatisfy({ $0.isLetter || $0.isNumber || "/_-".contains($0) }) else {
            throw KMSError("InvalidAliasNameException", name.hasPrefix("alias/aws/") ? "Alias must not begin with 'alias/aws/'"
                                                                                     : "Alias must start with the prefix \"alias/\".")
        }
        let target = try await key(targetKeyId)
        guard target.state != "PendingDeletion" else { throw Self.invalidState(target) }
        try await database.write { tx in
            guard try tx.get(AliasRecord.self, name) == nil else {
                throw KMSError("AlreadyExistsException", "An alias with the name arn:aws:kms:\(self.region):\(self.account):\(name) already exists")
            }
            try tx.insert(AliasRecord(name: name, targetKeyId: target.keyId, created: Date(), updated: Date()))
        }
    }

    public func listAliases(keyId: String?, limit: Int?, marker: String?) async throws -> (aliases: [AliasEntry], nextMarker: String?) {
        var target: String?
        if let keyId { target = try await key(keyId).keyId }
        let wanted = target
        let all = try await database.read { reader in try reader.all(AliasRecord.self) }
            .filter { wanted == nil || $0.targetKeyId == wanted }
            .map { AliasEntry(AliasName: $0.name, AliasArn: "arn:aws:kms:\(region):\(account):\($0.name)", TargetKeyId: $0.targetKeyId,
                              CreationDate: $0.created, LastUpdatedDate: $0.updated) }
        return try Self.page(all, key: \.AliasName, limit: limit, marker: marker)
    }

    // MARK: Cryptography

    public struct Encrypted: Sendable {
        public let ciphertextBlob: Data
        public let keyArn: String
    }

    public func encrypt(keyId: String, plaintext: Data, context: [String: String], caller: String) async throws -> Encrypted {
        guard (1...4096).contains(plaintext.count) else {
            throw KMSError("ValidationException", "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length between 1 and 4096")
        }
        let record = try await usable(keyId, action: "kms:Encrypt", caller: caller)
        let material = record.materials[record.materials.count - 1]
        let sealed = try AES.GCM.seal(plaintext, using: try open(record, material), authenticating: Self.aad(context))
        var blob = Data(Self.blobMagic)
        blob.append(1)
        blob.append(Data(record.keyId.utf8))
        blob.append(Data(material.id.utf8))
        blob.append(sealed.combined!)
        return Encrypted(ciphertextBlob: blob, keyArn: record.arn)
    }

    public struct Decrypted: Sendable {
        public let plaintext: Data
        public let keyArn: String
    }

    public func decrypt(_ blob: Data, context: [String: String], keyId expected: String?, caller: String) async throws -> Decrypted {
        let bytes = [UInt8](blob)
        guard bytes.count > 4 + 1 + 36 + 16 + 28, Array(bytes[0..<4]) == Self.blobMagic, bytes[4] == 1 else {
            throw KMSError("InvalidCiphertextException", "")
        }
        let keyId = String(decoding: bytes[5..<41], as: UTF8.self)
        let materialId = String(decoding: bytes[41..<57], as: UTF8.self)
        guard let record = try await database.read({ reader in try reader.get(KeyRecord.self, keyId) }), !Self.deleted(record) else {
            throw KMSError("InvalidCiphertextException", "")
        }
        if let expected, try await key(expected).keyId != record.keyId {
            throw KMSError("IncorrectKeyException", "The key ID in the request does not identify a KMS key that can perform this operation.")
        }
        _ = try await usable(record.keyId, action: "kms:Decrypt", caller: caller)
        guard let material = record.materials.first(where: { $0.id == materialId }),
              let box = try? AES.GCM.SealedBox(combined: Data(bytes[57...])),
              let plaintext = try? AES.GCM.open(box, using: try open(record, material), authenticating: Self.aad(context)) else {
            throw KMSError("InvalidCiphertextException", "")
        }
        return Decrypted(plaintext: plaintext, keyArn: record.arn)
    }

    public func generateDataKey(keyId: String, keySpec: String?, numberOfBytes: Int?, context: [String: String],
                                caller: String) async throws -> (plaintext: Data, encrypted: Encrypted) {
        let count: Int
        switch (keySpec, numberOfBytes) {
        case (nil, nil): throw KMSError("ValidationException", "Please specify either number of bytes or key spec.")
        case (.some, .some): throw KMSError("ValidationException", "Please specify either number of bytes or key spec, not both.")
        case ("AES_256", nil): count = 32
        case ("AES_128", nil): count = 16
        case (nil, let bytes?) where (1...1024).contains(bytes): count = bytes
        case (let spec?, nil): throw KMSError("ValidationException", "1 validation error detected: Value '\(spec)' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]")
        default: throw KMSError("ValidationException", "1 validation error detected: Value at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024")
        }
        let plaintext = SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Data($0) }
        return (plaintext, try await encrypt(keyId: keyId, plaintext: plaintext, context: context, caller: caller))
    }

    public func reEncrypt(_ blob: Data, sourceContext: [String: String], sourceKeyId: String?, destinationKeyId: String,
                          destinationContext: [String: String], caller: String) async throws -> (encrypted: Encrypted, sourceArn: String) {
        let decrypted = try await decrypt(blob, context: sourceContext, keyId: sourceKeyId, caller: caller)
        return (try await encrypt(keyId: destinationKeyId, plaintext: decrypted.plaintext, context: destinationContext, caller: caller),
                decrypted.keyArn)
    }

    /// The key's state, nil if there is no such key (for Skiff's own callers, such as a cluster's Secret encryption).
    public func state(of id: String) async -> String? {
        try? await key(id).state
    }

    /// Throws what a use of the key would be refused with now; a key known enabled costs no read.
    public func checkUsable(_ id: String) async throws {
        if let known = states.withLock({ $0[id] }), known.state == "Enabled" { return }
        let record = try await usable(id, action: "kms:Decrypt", caller: "")
        remember(record)
    }

    private func remember(_ record: KeyRecord) {
        states.withLock { $0[record.arn] = (record.state, record.deletionDate) }
    }

    // MARK: Helpers

    /// The key an id, ARN, alias name or alias ARN names; keys past their deletion date are gone.
    func key(_ id: String) async throws -> KeyRecord {
        var keyId = id
        if let range = id.range(of: ":key/") { keyId = String(id[range.upperBound...]) }
        if id.hasPrefix("alias/") || id.contains(":alias/") {
            let name = id.hasPrefix("alias/") ? id : String(id[id.range(of: ":alias/")!.lowerBound...].dropFirst())
            guard let alias = try await database.read({ reader in try reader.get(AliasRecord.self, name) }) else {
                throw KMSError("NotFoundException", "Alias arn:aws:kms:\(region):\(account):\(name) is not found.")
            }
            keyId = alias.targetKeyId
        }
        let resolved = keyId
        guard let record = try await database.read({ reader in try reader.get(KeyRecord.self, resolved) }), !Self.deleted(record) else {
            throw KMSError.notFound(id.hasPrefix("arn:") ? id : "arn:aws:kms:\(region):\(account):key/\(resolved)")
        }
        return record
    }

    /// The key, if it is enabled and its policy lets `caller` take `action`.
    private func usable(_ id: String, action: String, caller: String) async throws -> KeyRecord {
        let record = try await key(id)
        switch record.state {
        case "Enabled": break
        case "Disabled": throw Self.disabled(record)
        default: throw Self.invalidState(record)
        }
        let policy = try? TrustPolicy(document: record.policy)
        let account = caller.split(separator: ":", omittingEmptySubsequences: false).dropFirst(4).first.map(String.init) ?? ""
        guard caller.isEmpty || policy?.allows(action, by: .aws(arn: caller, account: account)) == true else {
            throw KMSError("AccessDeniedException", "User: \(caller) is not authorized to perform: \(action) on resource: \(record.arn) because no resource-based policy allows the \(action) action")
        }
        return record
    }

    @discardableResult
    private func update(_ id: String, _ change: @Sendable @escaping (inout KeyRecord) throws -> Void) async throws -> KeyRecord {
        let keyId = try await key(id).keyId
        let record = try await database.write { tx in
            guard var record = try tx.get(KeyRecord.self, keyId) else { throw KMSError.notFound(id) }
            try change(&record)
            try tx.save(record)
            return record
        }
        remember(record)
        return record
    }

    private func newMaterial() throws -> KeyMaterial {
        let material = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let id = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))
        return KeyMaterial(id: id, sealed: try AES.GCM.seal(material, using: rootKey).combined!, created: Date())
    }

    private func open(_ record: KeyRecord, _ material: KeyMaterial) throws -> SymmetricKey {
        let cacheKey = "\(record.keyId)/\(material.id)"
        if let key = opened.withLock({ $0[cacheKey] }) { return key }
        let key = SymmetricKey(data: try AES.GCM.open(try AES.GCM.SealedBox(combined: material.sealed), using: rootKey))
        opened.withLock { $0[cacheKey] = key }
        return key
    }

    func metadata(_ record: KeyRecord) -> KeyMetadata {
        KeyMetadata(AWSAccountId: account, KeyId: record.keyId, Arn: record.arn, CreationDate: record.created, Enabled: record.state == "Enabled",
                    Description: record.description, KeyUsage: "ENCRYPT_DECRYPT", KeyState: record.state, DeletionDate: record.deletionDate,
                    PendingDeletionWindowInDays: record.pendingWindowInDays, Origin: "AWS_KMS", KeyManager: "CUSTOMER",
                    CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", KeySpec: "SYMMETRIC_DEFAULT", EncryptionAlgorithms: [Self.encryptionAlgorithm],
                    MultiRegion: false, CurrentKeyMaterialId: record.materials.last?.id ?? "")
    }

    static func deleted(_ record: KeyRecord) -> Bool {
        record.state == "PendingDeletion" && (record.deletionDate ?? .distantFuture) <= Date()
    }

    static func disabled(_ record: KeyRecord) -> KMSError { KMSError("DisabledException", "\(record.arn) is disabled.") }
    static func invalidState(_ record: KeyRecord) -> KMSError {
        KMSError("KMSInvalidStateException", record.state == "PendingDeletion" ? "\(record.arn) is pending deletion." : "\(record.arn) is \(record.state.lowercased()).")
    }

    /// The encryption context, bound to the ciphertext: the same pairs must be given to decrypt.
    static func aad(_ context: [String: String]) -> Data {
        Data(context.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n").utf8)
    }

    static func defaultPolicy(account: String) -> String {
        #"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::\#(account):root"},"Action":"kms:*","Resource":"*"}]}"#
    }

    static func page<Item>(_ items: [Item], key: KeyPath<Item, String>, limit: Int?, marker: String?) throws -> ([Item], String?) {
        let limit = limit ?? 100
        guard (1...1000).contains(limit) else {
            throw KMSError("ValidationException", "1 validation error detected: Value '\(limit)' at 'limit' failed to satisfy constraint: Member must have value between 1 and 1000")
        }
        let sorted = items.sorted { $0[keyPath: key] < $1[keyPath: key] }
        let rest = marker.map { marker in sorted.drop { $0[keyPath: key] <= marker } } ?? sorted[...]
        let page = Array(rest.prefix(limit))
        return (page, rest.count > limit ? page.last?[keyPath: key] : nil)
    }
}
