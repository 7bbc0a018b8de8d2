import _CryptoExtras
import Crypto
import Foundation
import RegionStore

/// An EC2 key pair: EC2 keeps the public half; the private one goes to the caller of `CreateKeyPair` only.
public struct KeyPairRecord: StoredRecord, Equatable {
    public static let kind = "ec2.keyPair"
    public var storeKey: String { keyName }

    public let keyName: String
    public let keyPairId: String
    public let keyType: String
    public let keyFingerprint: String
    /// OpenSSH's form: `ssh-ed25519 AAAA…`.
    public let publicKey: String
    public let createTime: Date
    public var tags: [Tag]
}

extension RegionNetwork {
    /// A new key pair; returns it and its private key (PEM for RSA, OpenSSH's format for ED25519, as EC2 hands them out).
    public func createKeyPair(name: String?, type: String?, format: String?, tags: [Tag]) async throws -> (KeyPairRecord, String) {
        guard let name, !name.isEmpty else { throw EC2Error.missingParameter("KeyName") }
        guard name.count <= 255, name.allSatisfy(\.isASCII) else {
            throw EC2Error("InvalidParameterValue", "Value (\(name)) for parameter keyName is invalid. Key names must be ASCII and at most 255 characters.")
        }
        let keyType = type ?? "rsa"
        guard ["rsa", "ed25519"].contains(keyType) else {
            throw EC2Error("InvalidParameterValue", "Value (\(keyType)) for parameter keyType is invalid. Valid values are rsa and ed25519.")
        }
        guard (format ?? "pem") == "pem" else {
            throw EC2Error("InvalidParameterValue", "Value (\(format ?? "")) for parameter keyFormat is invalid: Skiff hands out pem keys.")
        }
        // Key generation stays out of the transaction.
        let (fingerprint, publicKey, material) = try keyType == "rsa" ? Self.rsaKey() : Self.ed25519Key()
        let record = KeyPairRecord(keyName: name, keyPairId: ResourceID.make("key"), keyType: keyType, keyFingerprint: fingerprint,
                                   publicKey: publicKey, createTime: Date(), tags: tags)
        try await database.write { tx in
            guard try tx.get(KeyPairRecord.self, name) == nil else {
                throw EC2Error("InvalidKeyPair.Duplicate", "The keypair '\(name)' already exists.")
            }
            try tx.insert(record)
        }
        return (record, material)
    }

    public func describeKeyPairs(names: [String], ids: [String]) async throws -> [KeyPairRecord] {
        try await database.read { reader in
            let all = try reader.all(KeyPairRecord.self).sorted { $0.keyName < $1.keyName }
            for name in names where !all.contains(where: { $0.keyName == name }) {
                throw EC2Error("InvalidKeyPair.NotFound", "The key pair '\(name)' does not exist")
            }
            for id in ids where !all.contains(where: { $0.keyPairId == id }) {
                throw EC2Error("InvalidKeyPair.NotFound", "The key pair '\(id)' does not exist")
            }
            return all.filter { (names.isEmpty && ids.isEmpty) || names.contains($0.keyName) || ids.contains($0.keyPairId) }
        }
    }

    public func deleteKeyPair(name: String?, id: String?) async throws {
        try await database.write { tx in
            guard let record = try tx.all(KeyPairRecord.self).first(where: { $0.keyName == name || $0.keyPairId == id }) else { return }
            try tx.delete(KeyPairRecord.self, record.storeKey)
        }
    }

    public func keyPair(_ reader: RecordReader, name: String) throws -> KeyPairRecord? {
        try reader.get(KeyPairRecord.self, name)
    }

    /// An RSA 2048 key: its fingerprint as EC2 computes it for keys it made (SHA-1 of the PKCS#8 private key, in hex pairs).
    static func rsaKey() throws -> (String, String, String) {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let fingerprint = Insecure.SHA1.hash(data: key.pkcs8DERRepresentation).map { String(format: "%02x", $0) }.joined(separator: ":")
        let primitives = try key.publicKey.getKeyPrimitives()
        var blob = SSHWire()
        blob.string(Array("ssh-rsa".utf8))
        blob.mpint(Array(primitives.publicExponent))
        blob.mpint(Array(primitives.modulus))
        return (fingerprint, "ssh-rsa " + Data(blob.bytes).base64EncodedString(), key.pemRepresentation)
    }

    /// An ED25519 key in OpenSSH's private key format; its fingerprint the base64 SHA-256 of the public key blob.
    static func ed25519Key() throws -> (String, String, String) {
        let key = Curve25519.Signing.PrivateKey()
        let publicBytes = Array(key.publicKey.rawRepresentation)
        var publicBlob = SSHWire()
        publicBlob.string(Array("ssh-ed25519".utf8))
        publicBlob.string(publicBytes)
        let check = UInt32.random(in: 0...UInt32.max)
        var secret = SSHWire()
        secret.uint32(check)
        secret.uint32(check)
        secret.string(Array("ssh-ed25519".utf8))
        secret.string(publicBytes)
        secret.string(Array(key.rawRepresentation) + publicBytes)
        secret.string([])
        var pad: UInt8 = 1
        while secret.bytes.count % 8 != 0 { secret.bytes.append(pad); pad += 1 }
        var file = SSHWire()
        file.bytes = Array("openssh-key-v1".utf8) + [0]
        file.string(Array("none".utf8))
        file.string(Array("none".utf8))
        file.string([])
        file.uint32(1)
        file.string(publicBlob.bytes)
        file.string(secret.bytes)
        let body = Data(file.bytes).base64EncodedString()
        let lines = stride(from: 0, to: body.count, by: 70).map { offset -> String in
            let start = body.index(body.startIndex, offsetBy: offset)
            return String(body[start..<(body.index(start, offsetBy: 70, limitedBy: body.endIndex) ?? body.endIndex)])
        }
        let pem = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + lines.joined(separator: "\n") + "\n-----END OPENSSH PRIVATE KEY-----\n"
        let fingerprint = Data(SHA256.hash(data: publicBlob.bytes)).base64EncodedString()
        return (fingerprint, "ssh-ed25519 " + Data(publicBlob.bytes).base64EncodedString(), pem)
    }
}

/// SSH's wire encoding (RFC 4251): big-endian lengths, strings, and mpints.
struct SSHWire {
    var bytes: [UInt8] = []

    mutating func uint32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    mutating func string(_ value: [UInt8]) {
        uint32(UInt32(value.count))
        bytes += value
    }

    /// A positive integer: leading zeros dropped, one added when the high bit is set.
    mutating func mpint(_ value: [UInt8]) {
        var trimmed = Array(value.drop { $0 == 0 })
        if let first = trimmed.first, first & 0x80 != 0 { trimmed.insert(0, at: 0) }
        string(trimmed)
    }
}
