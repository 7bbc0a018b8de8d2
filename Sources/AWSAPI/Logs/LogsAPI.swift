import CloudWatchLogs
import Foundation

/// CloudWatch Logs over AWS's JSON protocol (`Logs_20140328.*`), with botocore's `logs` shapes.
public struct LogsAPI: AWSService {
    public let signingName = "logs"
    public let wireProtocol = WireProtocol.json
    public let signatureErrors = SignatureErrorCodes.json

    private let logs: LogsService

    public init(logs: LogsService) {
        self.logs = logs
    }

    /// Reading and writing events are data events, which CloudTrail does not keep as management events.
    static let dataEvents: Set = ["PutLogEvents", "GetLogEvents", "FilterLogEvents"]

    public func trailCall(_ request: AWSRequest) -> TrailCall? {
        guard let call = try? JSONTargetCall(request, targetPrefix: "Logs_20140328"), !Self.dataEvents.contains(call.operation) else { return nil }
        return .json(call.operation, body: request.body)
    }

    public func handle(_ request: AWSRequest) async throws -> AWSResponse {
        let call = try JSONTargetCall(request, targetPrefix: "Logs_20140328")
        switch call.operation {
        case "CreateLogGroup":
            struct Input: Decodable {
                var logGroupName: String
                var kmsKeyId: String?
                var tags: [String: String]?
                var logGroupClass: String?
                var deletionProtectionEnabled: Bool?
            }
            let input = try call.input(Input.self)
            try await logs.createLogGroup(name: input.logGroupName, kmsKeyId: input.kmsKeyId, tags: input.tags ?? [:],
                                          logGroupClass: input.logGroupClass, deletionProtection: input.deletionProtectionEnabled ?? false)
            return .emptyAmzJSON
        case "DeleteLogGroup":
            try await logs.deleteLogGroup(name: try call.input(GroupInput.self).logGroupName)
            return .emptyAmzJSON
        case "PutRetentionPolicy":
            struct Input: Decodable { var logGroupName: String; var retentionInDays: Int }
            let input = try call.input(Input.self)
            try await logs.putRetentionPolicy(name: input.logGroupName, days: input.retentionInDays)
            return .emptyAmzJSON
        case "DeleteRetentionPolicy":
            try await logs.deleteRetentionPolicy(name: try call.input(GroupInput.self).logGroupName)
            return .emptyAmzJSON
        case "DescribeLogGroups":
            struct Input: Decodable {
                var logGroupNamePrefix: String?
                var logGroupNamePattern: String?
                var logGroupClass: String?
                var limit: Int?
                var nextToken: String?
            }
            struct Output: Encodable { var logGroups: [LogGroup]; var nextToken: String? }
            let input = try call.input(Input.self)
            let page = try await logs.describeLogGroups(prefix: input.logGroupNamePrefix, pattern: input.logGroupNamePattern,
                                                        logGroupClass: input.logGroupClass, limit: input.limit, nextToken: input.nextToken)
            return try .amzJSON(Output(logGroups: page.items, nextToken: page.nextToken))
        case "CreateLogStream":
            let input = try call.input(StreamInput.self)
            try await logs.createLogStream(group: try input.group(), name: input.logStreamName)
            return .emptyAmzJSON
        case "DeleteLogStream":
            let input = try call.input(StreamInput.self)
            try await logs.deleteLogStream(group: try input.group(), name: input.logStreamName)
            return .emptyAmzJSON
        case "DescribeLogStreams":
            struct Input: Decodable {
                var logGroupName: String?
                var logGroupIdentifier: String?
                var logStreamNamePrefix: String?
                var orderBy: String?
                var descending: Bool?
                var limit: Int?
                var nextToken: String?
            }
            struct Output: Encodable { var logStreams: [LogStream]; var nextToken: String? }
            let input = try call.input(Input.self)
            var order: LogsService.StreamOrder?
            if let orderBy = input.orderBy {
                guard let known = LogsService.StreamOrder(rawValue: orderBy) else {
                    throw LogsError.validation(orderBy, at: "orderBy", "Member must satisfy enum value set: [LogStreamName, LastEventTime]")
                }
                order = known
            }
            let page = try await logs.describeLogStreams(group: try Self.group(input.logGroupName, input.logGroupIdentifier),
                                                         prefix: input.logStreamNamePrefix, orderBy: order, descending: input.descending,
                                                         limit: input.limit, nextToken: input.nextToken)
            return try .amzJSON(Output(logStreams: page.items, nextToken: page.nextToken))
        case "PutLogEvents":
            struct Input: Decodable {
                var logGroupName: String
                var logStreamName: String
                var logEvents: [InputLogEvent]
                var sequenceToken: String?
            }
            struct Output: Encodable { var nextSequenceToken: String; var rejectedLogEventsInfo: RejectedLogEvents? }
            let input = try call.input(Input.self)
            let result = try await logs.putLogEvents(group: input.logGroupName, stream: input.logStreamName, events: input.logEvents)
            return try .amzJSON(Output(nextSequenceToken: result.nextSequenceToken,
                                       rejectedLogEventsInfo: result.rejected.isEmpty ? nil : result.rejected))
        case "GetLogEvents":
            struct Input: Decodable {
                var logGroupName: String?
                var logGroupIdentifier: String?
                var logStreamName: String
                var startTime: Int64?
                var endTime: Int64?
                var nextToken: String?
                var limit: Int?
                var startFromHead: Bool?
            }
            struct Event: Encodable { var timestamp: Int64; var message: String; var ingestionTime: Int64 }
            struct Output: Encodable { var events: [Event]; var nextForwardToken: String; var nextBackwardToken: String }
            let input = try call.input(Input.self)
            let page = try await logs.getLogEvents(group: try Self.group(input.logGroupName, input.logGroupIdentifier),
                                                   stream: input.logStreamName, start: input.startTime, end: input.endTime,
                                                   nextToken: input.nextToken, limit: input.limit, startFromHead: input.startFromHead)
            return try .amzJSON(Output(events: page.events.map { Event(timestamp: $0.timestamp, message: $0.message, ingestionTime: $0.ingestionTime) },
                                       nextForwardToken: page.nextForwardToken, nextBackwardToken: page.nextBackwardToken))
        case "FilterLogEvents":
            struct Input: Decodable {
                var logGroupName: String?
                var logGroupIdentifier: String?
                var logStreamNames: [String]?
                var logStreamNamePrefix: String?
                var startTime: Int64?
                var endTime: Int64?
                var filterPattern: String?
                var nextToken: String?
                var limit: Int?
            }
            struct Event: Encodable { var logStreamName: String; var timestamp: Int64; var message: String; var ingestionTime: Int64; var eventId: String }
            struct Searched: Encodable { var logStreamName: String; var searchedCompletely: Bool }
            struct Output: Encodable { var events: [Event]; var searchedLogStreams: [Searched]; var nextToken: String? }
            let input = try call.input(Input.self)
            let page = try await logs.filterLogEvents(group: try Self.group(input.logGroupName, input.logGroupIdentifier),
                                                      streamNames: input.logStreamNames, streamPrefix: input.logStreamNamePrefix,
                                                      start: input.startTime, end: input.endTime, pattern: input.filterPattern,
                                                      nextToken: input.nextToken, limit: input.limit)
            return try .amzJSON(Output(
                events: page.events.map { Event(logStreamName: $0.logStreamName, timestamp: $0.timestamp, message: $0.message,
                                                ingestionTime: $0.ingestionTime, eventId: $0.eventId) },
                searchedLogStreams: [], nextToken: page.nextToken))
        default:
            throw AWSError(code: "UnknownOperationException", message: "", status: 400)
        }
    }

    private struct GroupInput: Decodable { var logGroupName: String }

    private struct StreamInput: Decodable {
        var logGroupName: String?
        var logGroupIdentifier: String?
        var logStreamName: String

        func group() throws -> String { try LogsAPI.group(logGroupName, logGroupIdentifier) }
    }

    /// A group named, or identified by name or ARN; exactly one of the two.
    static func group(_ name: String?, _ identifier: String?) throws -> String {
        switch (name, identifier) {
        case (let name?, nil): return name
        case (nil, let identifier?):
            // `arn:aws:logs:REGION:ACCOUNT:log-group:NAME` (with or without `:*`), or the name itself.
            guard identifier.hasPrefix("arn:") else { return identifier }
            let parts = identifier.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count >= 7, parts[5] == "log-group" else {
                throw LogsError.invalidParameter("The specified logGroupIdentifier is not valid.")
            }
            return String(parts[6])
        case (nil, nil): throw LogsError.invalidParameter("Either logGroupName or logGroupIdentifier should be specified.")
        case (.some, .some): throw LogsError.invalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
        }
    }

    public func awsError(for error: any Error) -> AWSError? {
        switch error {
        case let error as AWSError: error
        case let error as LogsError: AWSError(code: error.code, message: error.message, status: 400)
        default: nil
        }
    }
}
