import Crypto
import Foundation
import KubeStore
import Synchronization

/// What a cluster's Secret encryption asks of KMS: data keys wrapped by the cluster's KMS key, unwrapped again.
public struct EnvelopeKeys: Sendable {
    /// Wraps a data key under the KMS key; throws KMS's refusal (a disabled key, a deleted one).
    public var wrap: @Sendable (_ keyArn: String, _ dataKey: Data, _ context: [String: String]) async throws -> (blob: Data, keyId: String)
    /// Unwraps a data key; throws KMS's refusal.
    public var unwrap: @Sendable (_ blob: Data, _ context: [String: String]) async throws -> Data
    /// Refuses (throws) while the KMS key cannot be used, so that cached data keys stop working with it.
    public var check: @Sendable (_ keyArn: String) async throws -> Void

    public init(wrap: @escaping @Sendable (String, Data, [String: String]) async throws -> (blob: Data, keyId: String),
                unwrap: @escaping @Sendable (Data, [String: String]) async throws -> Data,
                check: @escaping @Sendable (String) async throws -> Void) {
        self.wrap = wrap
        self.unwrap = unwrap
        self.check = check
    }
}

/// A KMS-wrapped Secret that cannot be read: kube-apiserver's words for it.
struct EnvelopeError: Error, CustomStringConvertible {
    let description: String
}

/// kube-apiserver's KMS v2 envelope encryption, as EKS configures it for `encryptionConfig` secrets: each value
/// is sealed with AES-GCM under a data key, the etcd key as authenticated data; the data key is generated here,
/// wrapped once by the cluster's KMS key and reused for many writes (the KMS v2 plugin's cache), and stored beside
/// the value: `k8s:enc:kms:v2:aws-encryption-provider:` + the `EncryptedObject` protobuf.
final class KMSv2Envelope: ValueTransformer {
    static let prefix = Array("k8s:enc:kms:v2:aws-encryption-provider:".utf8)
    /// Writes one data key seals before a new one is made.
    static let writesPerDataKey = 1 << 20

    let keyArn: String
    let clusterName: String
    let keys: EnvelopeKeys
    private struct DataKey { let key: SymmetricKey; let wrapped: Data; let keyId: String; var uses: Int }
    private let current = Mutex<DataKey?>(nil)
    /// Unwrapped data keys by their wrapped bytes.
    private let unwrapped = Mutex<[Data: SymmetricKey]>([:])

    init(keyArn: String, clusterName: String, keys: EnvelopeKeys) {
        self.keyArn = keyArn
        self.clusterName = clusterName
        self.keys = keys
    }

    var context: [String: String] { ["aws:eks:cluster": clusterName] }

    func toStorage(_ value: [UInt8], key: String) async throws -> [UInt8] {
        try await keys.check(keyArn)
        let dataKey = try await dataKeyForWrite()
        let sealed = try AES.GCM.seal(Data(value), using: dataKey.key, authenticating: Data(key.utf8))
        var object = Protobuf()
        object.bytes(1, sealed.combined!)
        object.string(2, dataKey.keyId)
        object.bytes(3, dataKey.wrapped)
        object.varint(5, 0)
        return Self.prefix + object.bytes
    }

    func fromStorage(_ value: [UInt8], key: String) async throws -> [UInt8] {
        guard value.starts(with: Self.prefix) else { return value }
        let fields = Protobuf.fields(Array(value.dropFirst(Self.prefix.count)))
        guard let sealed = fields[1], let wrapped = fields[3] else {
            throw EnvelopeError(description: "failed to decrypt: the stored EncryptedObject of \(key) is incomplete")
        }
        do {
            try await keys.check(keyArn)
        } catch {
            throw EnvelopeError(description: "rpc error: code = Unknown desc = failed to decrypt DEK, error: \(error)")
        }
        let wrappedData = Data(wrapped)
        var dataKey = unwrapped.withLock { $0[wrappedData] }
        if dataKey == nil {
            do {
                let plain = try await keys.unwrap(wrappedData, context)
                dataKey = SymmetricKey(data: plain)
                unwrapped.withLock { $0[wrappedData] = dataKey }
            } catch {
                throw EnvelopeError(description: "rpc error: code = Unknown desc = failed to decrypt DEK, error: \(error)")
            }
        }
        guard let box = try? AES.GCM.SealedBox(combined: Data(sealed)),
              let plaintext = try? AES.GCM.open(box, using: dataKey!, authenticating: Data(key.utf8)) else {
            throw EnvelopeError(description: "failed to decrypt: the data of \(key) does not open with its data key")
        }
        return Array(plaintext)
    }

    private func dataKeyForWrite() async throws -> DataKey {
        if let key = current.withLock({ key -> DataKey? in
            guard var existing = key, existing.uses < Self.writesPerDataKey else { return nil }
            existing.uses += 1
            key = existing
            return existing
        }) { return key }
        let fresh = SymmetricKey(size: .bits256)
        let raw = fresh.withUnsafeBytes { Data($0) }
        let wrapped = try await keys.wrap(keyArn, raw, context)
        let made = DataKey(key: fresh, wrapped: wrapped.blob, keyId: wrapped.keyId, uses: 1)
        current.withLock { $0 = made }
        unwrapped.withLock { $0[wrapped.blob] = fresh }
        return made
    }
}

/// Just enough protobuf for `EncryptedObject`: length-delimited and varint fields.
struct Protobuf {
    var bytes: [UInt8] = []

    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, wire: 0)
        append(value)
    }

    mutating func bytes(_ field: Int, _ value: Data) {
        tag(field, wire: 2)
        append(UInt64(value.count))
        bytes += value
    }

    mutating func string(_ field: Int, _ value: String) { bytes(field, Data(value.utf8)) }

    private mutating func tag(_ field: Int, wire: UInt64) { append(UInt64(field) << 3 | wire) }

    private mutating func append(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// The length-delimited fields of a message, by number.
    static func fields(_ message: [UInt8]) -> [Int: [UInt8]] {
        var fields: [Int: [UInt8]] = [:]
        var index = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while index < message.count, shift < 64 {
                let byte = message[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < message.count, let tag = varint() {
            switch tag & 7 {
            case 0: guard varint() != nil else { return fields }
            case 2:
                guard let length = varint(), index + Int(length) <= message.count else { return fields }
                fields[Int(tag >> 3)] = Array(message[index..<index + Int(length)])
                index += Int(length)
            default: return fields
            }
        }
        return fields
    }
}

/// The envelope, for the benchmark that measures what it costs.
public enum SecretsEncryptionBench {
    public static func envelope(keyArn: String, keys: EnvelopeKeys) -> any ValueTransformer {
        KMSv2Envelope(keyArn: keyArn, clusterName: "bench", keys: keys)
    }
}
