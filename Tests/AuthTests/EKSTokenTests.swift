import Foundation
import Testing
@testable import Auth

/// Tokens as `aws eks get-token` builds them, and each reason a cluster refuses one.
struct EKSTokenTests {
    static let key = AccessKey(accessKeyId: "AKIAEXAMPLEKEY000001", secretAccessKey: "secret-of-alice",
                               identity: Identity(account: "000000000000", arn: "arn:aws:iam::000000000000:user/alice", userId: "AIDAALICE"),
                               createdAt: Date())
    static let endpoint = URL(string: "http://127.0.0.1:4566")!
    let verifier = EKSTokenVerifier(verifier: SigV4Verifier(region: nil) { id in id == EKSTokenTests.key.accessKeyId ? EKSTokenTests.key : nil })

    func token(cluster: String = "demo", secret: String = EKSTokenTests.key.secretAccessKey,
               keyId: String = EKSTokenTests.key.accessKeyId, date: Date = Date()) -> String {
        EKSTokenVerifier.token(signer: SigV4Signer(accessKeyId: keyId, secretAccessKey: secret, region: "us-east-1", service: "sts"),
                               endpoint: Self.endpoint, clusterName: cluster, date: date)
    }

    func failure(_ token: String, cluster: String = "demo", now: Date = Date()) async -> EKSTokenFailure? {
        do {
            _ = try await verifier.verify(token, clusterName: cluster, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func aTokenSignsAsItsKeysIdentityForItsCluster() async throws {
        let verified = try await verifier.verify(token(), clusterName: "demo")
        #expect(verified.identity == Self.key.identity)
        #expect(verified.service == "sts")
    }

    @Test func aTokenIsHonouredForFifteenMinutesThoughPresignedForSixty() async throws {
        let signed = Date().addingTimeInterval(-14 * 60)
        _ = try await verifier.verify(token(date: signed), clusterName: "demo")
        #expect(await failure(token(date: Date().addingTimeInterval(-16 * 60))) == .signature(.expired("Request has expired.")))
    }

    @Test func refusals() async {
        // For another cluster: the cluster name is signed, so the signature no longer matches.
        #expect(await failure(token(cluster: "other")) == .signature(.signatureMismatch))
        #expect(await failure(token(secret: "not-the-secret")) == .signature(.signatureMismatch))
        #expect(await failure(token(keyId: "AKIAUNKNOWN000000000")) == .signature(.unknownAccessKey("AKIAUNKNOWN000000000")))
        #expect(await failure("Bearer-ish") == .malformed("no k8s-aws-v1. prefix"))
        #expect(await failure("k8s-aws-v1.!!!") == .malformed("not base64url of a URL"))

        var tampered = token()
        tampered.removeLast(2)
        #expect(await failure(tampered) != nil)

        let signer = SigV4Signer(accessKeyId: Self.key.accessKeyId, secretAccessKey: Self.key.secretAccessKey, region: "us-east-1", service: "sts")
        func encode(_ url: URL) -> String {
            EKSTokenVerifier.prefix + Data(url.absoluteString.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let listUsers = signer.presign(url: URL(string: "http://127.0.0.1:4566/?Action=ListUsers")!, headers: [("x-k8s-aws-id", "demo")], expires: 60)
        #expect(await failure(encode(listUsers)) == .wrongAction("ListUsers"))
        let unbound = signer.presign(url: URL(string: "http://127.0.0.1:4566/?Action=GetCallerIdentity&Version=2011-06-15")!, expires: 60)
        #expect(await failure(encode(unbound)) == .noClusterId)
        let ec2Signer = SigV4Signer(accessKeyId: Self.key.accessKeyId, secretAccessKey: Self.key.secretAccessKey, region: "us-east-1", service: "ec2")
        let ec2 = EKSTokenVerifier.token(signer: ec2Signer, endpoint: Self.endpoint, clusterName: "demo")
        #expect(await failure(ec2) == .malformed("signed for ec2, not sts"))
    }

    @Test func anyAccessKeySignsAsARootWhenAccepted() async throws {
        let lenient = EKSTokenVerifier(verifier: SigV4Verifier(region: nil, acceptAnyAccessKey: true) { _ in nil })
        let made = EKSTokenVerifier.token(signer: SigV4Signer(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "x", region: "us-east-1", service: "sts"),
                                          endpoint: Self.endpoint, clusterName: "demo")
        #expect(try await lenient.verify(made, clusterName: "demo").identity == .root(of: "000000000000"))
        let numbered = EKSTokenVerifier.token(signer: SigV4Signer(accessKeyId: "123456789012", secretAccessKey: "x", region: "us-east-1", service: "sts"),
                                              endpoint: Self.endpoint, clusterName: "demo")
        #expect(try await lenient.verify(numbered, clusterName: "demo").identity == .root(of: "123456789012"))
        // Off by default.
        #expect(await failure(made) == .signature(.unknownAccessKey("AKIAIOSFODNN7EXAMPLE")))
    }
}
