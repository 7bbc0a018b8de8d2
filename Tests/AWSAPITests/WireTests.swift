import Auth
import EKS
import Foundation
import Testing
import VPC
@testable import AWSAPI

struct WireTests {
    @Test func restJSONErrorsCarryTheTypeHeaderAndResourceNames() throws {
        let response = WireProtocol.restJSON.render(AWSError(EKSError.clusterNotFound("demo")), requestId: "r1")
        #expect(response.status == 404)
        #expect(response.headers.contains { $0.name == "x-amzn-ErrorType" && $0.value == "ResourceNotFoundException" })
        let body = try JSONDecoder().decode([String: String].self, from: Data(response.body))
        #expect(body == ["message": "No cluster found for name: demo.", "clusterName": "demo"])
    }

    @Test func queryErrorsAreErrorResponses() {
        let error = SignatureErrorCodes.query.error(for: .unknownAccessKey("x"))
        let xml = String(decoding: WireProtocol.query(namespace: STSAPI.namespace).render(error, requestId: "r1").body, as: UTF8.self)
        #expect(xml.contains("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code>"))
        #expect(xml.contains("<RequestId>r1</RequestId>"))
    }

    @Test func ec2ErrorsAreResponseErrors() {
        let response = WireProtocol.ec2.render(AWSError(EC2Error.notFound("vpc", "vpc-1")), requestId: "r2")
        let xml = String(decoding: response.body, as: UTF8.self)
        #expect(response.status == 400)
        #expect(xml.contains("<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID &apos;vpc-1&apos; does not exist</Message></Error></Errors><RequestID>r2</RequestID></Response>"))
    }

    @Test func signatureFailuresMapPerProtocolFamily() {
        #expect(SignatureErrorCodes.json.error(for: .unknownAccessKey("k")).code == "UnrecognizedClientException")
        #expect(SignatureErrorCodes.json.error(for: .signatureMismatch).code == "InvalidSignatureException")
        #expect(SignatureErrorCodes.query.error(for: .signatureMismatch).code == "SignatureDoesNotMatch")
        #expect(SignatureErrorCodes.ec2.error(for: .signatureMismatch).code == "AuthFailure")
        #expect(SignatureErrorCodes.json.error(for: .signatureMismatch).status == 403)
    }

    @Test func queryParametersUnflattenListsFiltersAndTags() throws {
        let p = QueryParameters(SignableRequest.decodeForm(
            "Action=DescribeSubnets&SubnetId.2=b&SubnetId.1=a&Filter.1.Name=tag%3AName&Filter.1.Value.1=x+y&Filter.1.Value.2=z"
                + "&TagSpecification.1.ResourceType=subnet&TagSpecification.1.Tag.1.Key=k&TagSpecification.1.Tag.1.Value=v",
            plusIsSpace: true))
        #expect(p.list("SubnetId") == ["a", "b"])
        #expect(EC2API.filters(p) == [EC2Filter(name: "tag:Name", values: ["x y", "z"])])
        #expect(try EC2API.tags(p, resourceType: "subnet") == [Tag(key: "k", value: "v")])
        #expect(throws: EC2Error.self) { try EC2API.tags(p, resourceType: "vpc") }
    }

    @Test func restRoutesMatchEncodedARNs() {
        let route = RestRoute("GET", "/tags/{resourceArn}", "ListTagsForResource")
        let path = route.match(method: "GET", rawPath: "/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A000000000000%3Acluster%2Fdemo")
        #expect(path == ["resourceArn": "arn:aws:eks:us-east-1:000000000000:cluster/demo"])
        #expect(route.match(method: "POST", rawPath: "/tags/x") == nil)
        #expect(RestRoute("GET", "/clusters/{name}", "DescribeCluster").match(method: "GET", rawPath: "/clusters/a/b") == nil)
    }

    @Test func claimedSigningNameComesFromTheCredentialScope() {
        let request = SignableRequest(method: "POST", rawPath: "/", rawQuery: "", headers: [
            (name: "Authorization", value: "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")],
            body: [])
        #expect(AWSEndpoint.claimedSigningName(request) == "ec2")
    }
}
