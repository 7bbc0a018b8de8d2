@testable import Auth
import Foundation
import KubeModel
import Testing
@testable import CloudTrail

struct TrailServiceTests {
    let trail: TrailService

    init() throws {
        trail = try TrailService(directory: FileManager.default.temporaryDirectory.appendingPathComponent("skiff-trail-\(UUID())"),
                                 account: "000000000000")
    }

    func call(_ name: String, caller arn: String, parameters: JSON = [:], response: JSON? = nil,
              error: String? = nil) -> RecordedCall {
        let caller = VerifiedRequest(identity: Identity(account: "000000000000", arn: arn, userId: "AIDAX"), accessKeyId: "AKIAX",
                                     region: "us-east-1", service: "iam")
        return RecordedCall(eventSource: "iam.amazonaws.com", eventName: name, region: "us-east-1", caller: caller, sourceIPAddress: "10.0.0.1",
                            userAgent: "aws-cli/2", requestParameters: parameters, responseElements: response, errorCode: error,
                            errorMessage: error.map { "\($0) happened" }, requestId: "r-1")
    }

    @Test func secretsAreHiddenAndReadsCarryNoResponse() async throws {
        trail.record(call("CreateAccessKey", caller: "arn:aws:iam::000000000000:user/alice", parameters: ["userName": "bob"],
                          response: ["accessKey": ["accessKeyId": "AKIAB", "secretAccessKey": "s3cr3t"]]))
        trail.record(call("GetUser", caller: "arn:aws:iam::000000000000:user/alice", parameters: ["userName": "bob"], response: ["user": "x"]))
        trail.record(call("DeleteUser", caller: "arn:aws:sts::000000000000:assumed-role/admin/ci", parameters: ["userName": "nobody"],
                          error: "NoSuchEntity"))
        let all = try await trail.lookup(attributes: [], start: nil, end: nil, maxResults: nil, nextToken: nil).events
        #expect(all.map(\.eventName) == ["DeleteUser", "GetUser", "CreateAccessKey"])
        #expect(!all[2].cloudTrailEvent.contains("s3cr3t") && all[2].cloudTrailEvent.contains("HIDDEN_DUE_TO_SECURITY_REASONS"))
        #expect(all[1].readOnly && all[1].cloudTrailEvent.contains(#""responseElements":null"#))
        #expect(all[0].cloudTrailEvent.contains(#""errorCode":"NoSuchEntity""#) && all[0].username == "ci")
        #expect(all[0].cloudTrailEvent.contains(#""type":"AssumedRole""#))
        #expect(all[2].resources == [TrailEvent.Resource(ResourceType: "AWS::IAM::User", ResourceName: "bob")])

        let named = try await trail.lookup(attributes: [("Username", "alice")], start: nil, end: nil, maxResults: 1, nextToken: nil)
        #expect(named.events.map(\.eventName) == ["GetUser"] && named.nextToken != nil)
        let next = try await trail.lookup(attributes: [("Username", "alice")], start: nil, end: nil, maxResults: 1, nextToken: named.nextToken)
        #expect(next.events.map(\.eventName) == ["CreateAccessKey"] && next.nextToken == nil)
        #expect(try await trail.lookup(attributes: [("ResourceName", "nobody")], start: nil, end: nil, maxResults: nil, nextToken: nil)
            .events.count == 1)
        await #expect(throws: TrailError.self) {
            _ = try await trail.lookup(attributes: [("Colour", "red")], start: nil, end: nil, maxResults: nil, nextToken: nil)
        }
        await #expect(throws: TrailError.self) {
            _ = try await trail.lookup(attributes: [], start: Date(), end: Date().addingTimeInterval(-60), maxResults: nil, nextToken: nil)
        }
    }
}
