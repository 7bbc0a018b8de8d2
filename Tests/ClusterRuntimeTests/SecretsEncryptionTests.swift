import Crypto
import Foundation
import Synchronization
import Testing
@testable import ClusterRuntime

struct SecretsEncryptionTests {
    /// A KMS stand-in: wraps with one AES key, and can be switched off.
    final class FakeKMS: Sendable {
        let key = SymmetricKey(size: .bits256)
        let enabled = Mutex(true)
        let wraps = Mutex(0)

        var keys: EnvelopeKeys {
            EnvelopeKeys(
                wrap: { _, dataKey, _ in
                    self.wraps.withLock { $0 += 1 }
                    return (try AES.GCM.seal(dataKey, using: self.key).combined!, "arn:aws:kms:us-east-1:000000000000:key/k")
                },
                unwrap: { blob, _ in try AES.GCM.open(try AES.GCM.SealedBox(combined: blob), using: self.key) },
                check: { keyArn in
                    struct Disabled: Error, CustomStringConvertible { let description: String }
                    if !self.enabled.withLock({ $0 }) { throw Disabled(description: "DisabledException: \(keyArn) is disabled.") }
                })
        }
    }

    @Test func valuesAreSealedUnderAReusedDataKeyBoundToTheirStoreKey() async throws {
        let kms = FakeKMS()
        let envelope = KMSv2Envelope(keyArn: "arn:aws:kms:us-east-1:000000000000:key/k", clusterName: "demo", keys: kms.keys)
        let secret = Array(#"{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}"#.utf8)
        let stored = try await envelope.toStorage(secret, key: "/registry/core/secrets/default/db")
        #expect(stored.starts(with: Array("k8s:enc:kms:v2:aws-encryption-provider:".utf8)))
        #expect(!String(decoding: stored, as: UTF8.self).contains("aHVudGVyMg"))
        #expect(try await envelope.fromStorage(stored, key: "/registry/core/secrets/default/db") == secret)
        _ = try await envelope.toStorage(secret, key: "/registry/core/secrets/default/other")
        #expect(kms.wraps.withLock { $0 } == 1)
        // Moved to another key, the value does not open.
        await #expect(throws: EnvelopeError.self) { _ = try await envelope.fromStorage(stored, key: "/registry/core/secrets/default/moved") }
        // Values stored before encryption read as they are.
        #expect(try await envelope.fromStorage(secret, key: "/registry/core/secrets/default/old") == secret)
        kms.enabled.withLock { $0 = false }
        let refusal = await #expect(throws: EnvelopeError.self) { _ = try await envelope.fromStorage(stored, key: "/registry/core/secrets/default/db") }
        #expect(refusal?.description.contains("DisabledException") == true)
    }
}
