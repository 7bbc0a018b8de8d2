import Foundation
import Testing
@testable import Auth

/// The request/signature pairs AWS publishes for SigV4 (the signature-v4 test
/// suite and the IAM `ListUsers` signing example): all signed by AKIDEXAMPLE
/// at 2015-08-30T12:36:00Z.
struct SigV4VerifierTests {
    static let signedAt = SigV4.parseAmzDate("20150830T123600Z")!
    static let exampleKey = AccessKey(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                      identity: .root(of: "111122223333"), createdAt: signedAt)

    func verifier(region: String? = nil) -> SigV4Verifier {
        SigV4Verifier(region: region) { id in id == Self.exampleKey.accessKeyId ? Self.exampleKey : nil }
    }

    func suiteRequest(_ method: String, path: String, query: String = "", signature: String,
                      signedHeaders: String = "host;x-amz-date", service: String = "service",
                      host: String = "example.amazonaws.com", extraHeaders: [(String, String)] = []) -> SignableRequest {
        let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/\(service)/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return SignableRequest(method: method, rawPath: path, rawQuery: query,
                               headers: extraHeaders.map { (name: $0.0, value: $0.1) } + [
                                   (name: "Host", value: host), (name: "X-Amz-Date", value: "20150830T123600Z"),
                                   (name: "Authorization", value: authorization)],
                               body: [])
    }

    @Test(arguments: [
        ("get-vanilla", "GET", "/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("get-vanilla-query-order-key-case", "GET", "/", "Param2=value2&Param1=value1",
         "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        ("get-utf8", "GET", "/ሴ", "", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        ("post-vanilla", "POST", "/", "", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
    ])
    func testSuiteVectorsVerify(name: String, method: String, path: String, query: String, signature: String) async throws {
        let verified = try await verifier().verify(suiteRequest(method, path: path, query: query, signature: signature),
                                                   now: Self.signedAt)
        #expect(verified.accessKeyId == "AKIDEXAMPLE")
        #expect(verified.region == "us-east-1")
        #expect(verified.service == "service")
    }

    @Test func iamListUsersExampleVerifies() async throws {
        let request = suiteRequest("GET", path: "/", query: "Action=ListUsers&Version=2010-05-08",
                                   signature: "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
                                   signedHeaders: "content-type;host;x-amz-date", service: "iam", host: "iam.amazonaws.com",
                                   extraHeaders: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")])
        let verified = try await verifier().verify(request, now: Self.signedAt)
        #expect(verified.service == "iam")
        #expect(verified.identity == .root(of: "111122223333"))
    }

    @Test func alteredSignatureIsRefused() async {
        let request = suiteRequest("GET", path: "/", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf32")
        await #expect(throws: SignatureFailure.signatureMismatch) { try await verifier().verify(request, now: Self.signedAt) }
    }

    @Test func alteredRequestIsRefused() async {
        let request = suiteRequest("GET", path: "/other", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        await #expect(throws: SignatureFailure.signatureMismatch) { try await verifier().verify(request, now: Self.signedAt) }
    }

    @Test func unknownAccessKeyIsRefused() async {
        var request = suiteRequest("GET", path: "/", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        request.headers = request.headers.map { header in
            header.name == "authorization" ? (name: header.name, value: header.value.replacingOccurrences(of: "AKIDEXAMPLE", with: "AKIDUNKNOWN")) : header
        }
        await #expect(throws: SignatureFailure.unknownAccessKey("AKIDUNKNOWN")) {
            try await verifier().verify(request, now: Self.signedAt)
        }
    }

    @Test func requestSignedTooLongAgoIsRefused() async {
        let request = suiteRequest("GET", path: "/", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        await #expect {
            try await verifier().verify(request, now: Self.signedAt.addingTimeInterval(16 * 60))
        } throws: { error in
            guard case .expired(let text) = error as? SignatureFailure else { return false }
            return text.hasPrefix("Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z")
        }
    }

    @Test func otherRegionIsRefused() async {
        let request = suiteRequest("GET", path: "/", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        await #expect(throws: SignatureFailure.wrongRegion("us-east-1")) {
            try await verifier(region: "eu-west-1").verify(request, now: Self.signedAt)
        }
    }

    @Test func unsignedRequestIsRefused() async {
        let request = SignableRequest(method: "GET", rawPath: "/", rawQuery: "", headers: [(name: "Host", value: "x")], body: [])
        await #expect(throws: SignatureFailure.missingAuthentication) { try await verifier().verify(request) }
    }

    @Test func hostMustBeSigned() async {
        let request = suiteRequest("GET", path: "/", signature: "00", signedHeaders: "x-amz-date")
        await #expect { try await verifier().verify(request, now: Self.signedAt) } throws: { error in
            if case .incompleteSignature = error as? SignatureFailure { return true }
            return false
        }
    }

    /// A presigned URL signed with Skiff's own primitives, checked for expiry by the verifier.
    func presigned(expires: Int) -> SignableRequest {
        let query: [(name: String, value: String)] = [
            ("Action", "GetCallerIdentity"), ("Version", "2011-06-15"),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", "AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request"),
            ("X-Amz-Date", "20150830T123600Z"), ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", "host"),
        ]
        let unsigned = SignableRequest(method: "GET", rawPath: "/", rawQuery: "", headers: [(name: "host", value: "sts.amazonaws.com")], body: [])
        let canonical = SigV4.canonicalRequest(unsigned, signedHeaders: ["host"], queryItems: query, payloadHash: SigV4.hexSHA256([]))
        let signature = SigV4.signature(
            stringToSign: SigV4.stringToSign(amzDate: "20150830T123600Z", scope: "20150830/us-east-1/sts/aws4_request",
                                             canonicalRequest: canonical),
            key: SigV4.signingKey(secret: Self.exampleKey.secretAccessKey, date: "20150830", region: "us-east-1", service: "sts"))
        let rawQuery = (query + [("X-Amz-Signature", signature)])
            .map { "\(SigV4.uriEncode($0.name))=\(SigV4.uriEncode($0.value))" }.joined(separator: "&")
        return SignableRequest(method: "GET", rawPath: "/", rawQuery: rawQuery, headers: unsigned.headers, body: [])
    }

    @Test func presignedURLVerifiesUntilItExpires() async throws {
        let request = presigned(expires: 60)
        let verified = try await verifier().verify(request, now: Self.signedAt.addingTimeInterval(59))
        #expect(verified.service == "sts")
        await #expect(throws: SignatureFailure.expired("Request has expired.")) {
            try await verifier().verify(request, now: Self.signedAt.addingTimeInterval(61))
        }
    }

    @Test func amzDatesRoundTrip() {
        #expect(SigV4.formatAmzDate(Self.signedAt) == "20150830T123600Z")
        #expect(SigV4.parseAmzDate("20150830T123600") == nil)
        #expect(SigV4.parseAmzDate("20151330T123600Z") == nil)
        // Leap days: 2000 and 2024 have one, 1900 and 2100 do not; no hour 24, no second 60.
        #expect(SigV4.parseAmzDate("20000229T000000Z") != nil && SigV4.parseAmzDate("20240229T235959Z") != nil)
        #expect(SigV4.parseAmzDate("19000229T000000Z") == nil && SigV4.parseAmzDate("21000229T000000Z") == nil)
        #expect(SigV4.parseAmzDate("20240101T240000Z") == nil && SigV4.parseAmzDate("20240101T000060Z") == nil)
        #expect(SigV4.parseAmzDate("20240101T000000Z ") == nil && SigV4.parseAmzDate("2024010T1000000Z") == nil)
        // Against Foundation's calendar, every few hours over 130 years.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for seconds in stride(from: -86_400 * 365 * 10, to: 86_400 * 365 * 120, by: 86_400 * 7 + 3_601 * 5 + 7) {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            #expect(SigV4.formatAmzDate(date) == expected)
            #expect(SigV4.parseAmzDate(expected) == date)
        }
    }
}
