/// A log group as `DescribeLogGroups` shows it. Times are milliseconds since the epoch, as the service counts them.
public struct LogGroup: Codable, Sendable, Equatable {
    public var logGroupName: String
    public var creationTime: Int64
    public var retentionInDays: Int?
    public var metricFilterCount: Int
    public var arn: String
    public var storedBytes: Int64
    public var kmsKeyId: String?
    public var logGroupClass: String
    public var logGroupArn: String
    public var deletionProtectionEnabled: Bool
}

/// A log stream as `DescribeLogStreams` shows it.
public struct LogStream: Codable, Sendable, Equatable {
    public var logStreamName: String
    public var creationTime: Int64
    public var firstEventTimestamp: Int64?
    public var lastEventTimestamp: Int64?
    public var lastIngestionTime: Int64?
    public var uploadSequenceToken: String
    public var arn: String
    public var storedBytes: Int64
}

/// An event to write: when it happened and what it says.
public struct InputLogEvent: Codable, Sendable, Equatable {
    public var timestamp: Int64
    public var message: String

    public init(timestamp: Int64, message: String) {
        self.timestamp = timestamp
        self.message = message
    }
}

/// An event as it was stored.
public struct StoredLogEvent: Sendable, Equatable {
    /// Its place in the region's order of ingestion.
    public let id: Int64
    public let logStreamName: String
    public let timestamp: Int64
    public let ingestionTime: Int64
    public let message: String

    /// The 56-digit id `FilterLogEvents` gives each event.
    public var eventId: String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 56 - digits.count)) + digits
    }
}

/// Which events of a `PutLogEvents` batch were refused, by index, as `rejectedLogEventsInfo` reports them.
public struct RejectedLogEvents: Codable, Sendable, Equatable {
    public var tooNewLogEventStartIndex: Int?
    public var tooOldLogEventEndIndex: Int?
    public var expiredLogEventEndIndex: Int?

    public var isEmpty: Bool { tooNewLogEventStartIndex == nil && tooOldLogEventEndIndex == nil && expiredLogEventEndIndex == nil }
}

/// A page of results and the token that continues it.
public struct LogsPage<Item: Sendable>: Sendable {
    public let items: [Item]
    public let nextToken: String?
}
