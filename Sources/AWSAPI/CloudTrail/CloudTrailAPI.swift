import CloudTrail
import Foundation

/// CloudTrail over AWS's JSON protocol: `LookupEvents` over the region's event history, with botocore's
/// `cloudtrail` shapes (trails of one's own are not kept: the history is every account's default).
public struct CloudTrailAPI: AWSService {
    public let signingName = "cloudtrail"
    public let wireProtocol = WireProtocol.json
    public let signatureErrors = SignatureErrorCodes.json
    static let targetPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

    private let trail: TrailService

    public init(trail: TrailService) {
        self.trail = trail
    }

    public func trailCall(_ request: AWSRequest) -> TrailCall? {
        (try? JSONTargetCall(request, targetPrefix: Self.targetPrefix)).map { .json($0.operation, body: request.body) }
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let call = try JSONTargetCall(request, targetPrefix: Self.targetPrefix)
        switch call.operation {
        case "LookupEvents":
            struct Attribute: Decodable { var AttributeKey: String; var AttributeValue: String }
            struct Input: Decodable {
                var LookupAttributes: [Attribute]?
                var StartTime: Date?
                var EndTime: Date?
                var MaxResults: Int?
                var NextToken: String?
                var EventCategory: String?
            }
            struct Event: Encodable {
                var EventId: String, EventName: String, ReadOnly: String, AccessKeyId: String?, EventTime: Date, EventSource: String
                var Username: String?, Resources: [TrailEvent.Resource], CloudTrailEvent: String
            }
            struct Output: Encodable { var Events: [Event]; var NextToken: String? }
            let input = try call.input(Input.self)
            if let category = input.EventCategory, category != "insight" {
                throw TrailError("InvalidEventCategoryException", "Event category \(category) is not valid.")
            }
            let page = try await trail.lookup(attributes: (input.LookupAttributes ?? []).map { ($0.AttributeKey, $0.AttributeValue) },
                                              start: input.StartTime, end: input.EndTime, maxResults: input.MaxResults,
                                              nextToken: input.NextToken)
            return try .amzJSON(Output(Events: input.EventCategory == "insight" ? [] : page.events.map { event in
                Event(EventId: event.eventId, EventName: event.eventName, ReadOnly: event.readOnly ? "true" : "false",
                      AccessKeyId: event.accessKeyId, EventTime: event.eventTime, EventSource: event.eventSource, Username: event.username,
                      Resources: event.resources, CloudTrailEvent: event.cloudTrailEvent)
            }, NextToken: page.nextToken))
        case "DescribeTrails":
            struct Output: Encodable { var trailList: [String] }
            return try .amzJSON(Output(trailList: []))
        default:
            throw AWSError(code: "UnknownOperationException", message: "", status: 400)
        }
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as TrailError: AWSError(code: error.code, message: error.message, status: 400)
        default: nil
        }
    }
}
