import Auth
import Foundation
import GRDB
import KubeModel
import Synchronization

/// One call to the regional endpoint, as the endpoint saw it: what CloudTrail makes a management event of.
public struct RecordedCall: Sendable {
    public var eventSource: String
    public var eventName: String
    public var region: String
    /// The verified caller; nil for a call that needs no signature.
    public var caller: VerifiedRequest?
    public var sourceIPAddress: String
    public var userAgent: String
    /// The request's parameters and the response's elements, as JSON objects (nil: none).
    public var requestParameters: JSON?
    public var responseElements: JSON?
    public var errorCode: String?
    public var errorMessage: String?
    public var requestId: String
    public var time: Date

    public init(eventSource: String, eventName: String, region: String, caller: VerifiedRequest?, sourceIPAddress: String, userAgent: String,
                requestParameters: JSON?, responseElements: JSON?, errorCode: String?, errorMessage: String?,
                requestId: String, time: Date = Date()) {
        self.eventSource = eventSource
        self.eventName = eventName
        self.region = region
        self.caller = caller
        self.sourceIPAddress = sourceIPAddress
        self.userAgent = userAgent
        self.requestParameters = requestParameters
        self.responseElements = responseElements
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.requestId = requestId
        self.time = time
    }

    /// Reads change nothing: `Describe…`, `Get…`, `List…`, `Lookup…`.
    public var readOnly: Bool { Self.isReadOnly(eventName) }

    /// Whether an operation only reads; CloudTrail keeps no `responseElements` for those.
    public static func isReadOnly(_ eventName: String) -> Bool {
        ["Describe", "Get", "List", "Lookup", "Filter"].contains { eventName.hasPrefix($0) }
    }
}

/// An event as `LookupEvents` returns it.
public struct TrailEvent: Sendable, Equatable {
    public let eventId: String
    public let eventName: String
    public let readOnly: Bool
    public let accessKeyId: String?
    public let eventTime: Date
    public let eventSource: String
    public let username: String?
    public let resources: [Resource]
    /// The whole event, as CloudTrail writes it.
    public let cloudTrailEvent: String

    public struct Resource: Sendable, Equatable, Codable {
        public let ResourceType: String
        public let ResourceName: String
    }
}

public struct TrailError: Error, Equatable, Sendable {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// CloudTrail's event history for the region: every call to the regional endpoint is a management event,
/// kept 90 days in the data dir's `cloudtrail.sqlite`. Calls are recorded as they finish and written in
/// batches (CloudTrail delivers its events after the call too); a lookup writes what is waiting first.
public final class TrailService: Sendable {
    public static let retention: TimeInterval = 90 * 86_400
    static let lookupKeys: Set = ["EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"]
    /// What CloudTrail writes in place of a secret.
    static let hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"
    static let secretKeys: Set = ["secretaccesskey", "plaintext", "password", "webidentitytoken", "token", "privatekey", "ciphertextblob"]

    private let pool: DatabasePool
    private let waiting = Mutex<[RecordedCall]>([])
    public let account: String

    public init(directory: URL, account: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: directory.appendingPathComponent("cloudtrail.sqlite").path, configuration: configuration)
        self.account = account
        var migrator = DatabaseMigrator()
        migrator.registerMigration("events") { db in
            try db.execute(sql: """
                CREATE TABLE trail_event (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, time REAL NOT NULL, name TEXT NOT NULL,
                    source TEXT NOT NULL, username TEXT, access_key TEXT, read_only INTEGER NOT NULL, resources TEXT NOT NULL,
                    body TEXT NOT NULL
                );
                CREATE INDEX trail_event_by_time ON trail_event (time);
                """)
        }
        try migrator.migrate(pool)
    }

    public func record(_ call: RecordedCall) {
        waiting.withLock { $0.append(call) }
    }

    /// Writes the recorded calls as events.
    public func flush() async throws {
        let calls = waiting.withLock { calls in
            defer { calls = [] }
            return calls
        }
        guard !calls.isEmpty else { return }
        let rows = calls.map(event)
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO trail_event (event_id, time, name, source, username, access_key, read_only, resources, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for row in rows {
                try statement.execute(arguments: [row.eventId, row.eventTime.timeIntervalSince1970, row.eventName, row.eventSource, row.username,
                                                  row.accessKeyId, row.readOnly, String(decoding: try JSONCoding.encode(row.resources), as: UTF8.self),
                                                  row.cloudTrailEvent])
            }
            try db.execute(sql: "DELETE FROM trail_event WHERE time < ?", arguments: [Date().timeIntervalSince1970 - Self.retention])
        }
    }

    /// `LookupEvents`: newest first, filtered by at most one attribute and the time range.
    public func lookup(attributes: [(key: String, value: String)], start: Date?, end: Date?, maxResults: Int?,
                       nextToken: String?) async throws -> (events: [TrailEvent], nextToken: String?) {
        guard attributes.count <= 1 else {
            throw TrailError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
        }
        if let attribute = attributes.first, !Self.lookupKeys.contains(attribute.key) {
            throw TrailError("InvalidLookupAttributesException", "The attribute key \(attribute.key) is not valid.")
        }
        if let start, let end, start > end {
            throw TrailError("InvalidTimeRangeException", "Start time must be earlier than end time.")
        }
        let limit = maxResults ?? 50
        guard (1...50).contains(limit) else { throw TrailError("InvalidMaxResultsException", "MaxResults must be from 1 to 50.") }
        var before = Int64.max
        if let nextToken {
            guard let data = Data(base64Encoded: nextToken), let seq = Int64(String(decoding: data, as: UTF8.self)) else {
                throw TrailError("InvalidNextTokenException", "Invalid NextToken.")
            }
            before = seq
        }
        try await flush()
        let floor = max(start?.timeIntervalSince1970 ?? 0, Date().timeIntervalSince1970 - Self.retention)
        var sql = "SELECT * FROM trail_event WHERE seq < ? AND time >= ? AND time <= ?"
        var arguments: StatementArguments = [before, floor, end?.timeIntervalSince1970 ?? Double.greatestFiniteMagnitude]
        if let attribute = attributes.first {
            switch attribute.key {
            case "EventId": sql += " AND event_id = ?"
            case "EventName": sql += " AND name = ?"
            case "EventSource": sql += " AND source = ?"
            case "Username": sql += " AND username = ?"
            case "AccessKeyId": sql += " AND access_key = ?"
            case "ReadOnly": sql += " AND read_only = (? = 'true')"
            default: break
            }
            if !["ResourceType", "ResourceName"].contains(attribute.key) { arguments += [attribute.value] }
        }
        sql += " ORDER BY seq DESC"
        let query = sql, queryArguments = arguments
        let resourceFilter = attributes.first.flatMap { ["ResourceType", "ResourceName"].contains($0.key) ? $0 : nil }
        return try await pool.read { db in
            var events: [(seq: Int64, event: TrailEvent)] = []
            var more = false
            let rows = try Row.fetchCursor(db, sql: query, arguments: queryArguments)
            while let row = try rows.next() {
                let resources = (try? JSONDecoder().decode([TrailEvent.Resource].self, from: Data((row["resources"] as String).utf8))) ?? []
                if let resourceFilter {
                    let matches = resources.contains { resourceFilter.key == "ResourceType" ? $0.ResourceType == resourceFilter.value
                        : $0.ResourceName == resourceFilter.value }
                    if !matches { continue }
                }
                if events.count == limit {
                    more = true
                    break
                }
                events.append((row["seq"], TrailEvent(
                    eventId: row["event_id"], eventName: row["name"], readOnly: row["read_only"], accessKeyId: row["access_key"],
                    eventTime: Date(timeIntervalSince1970: row["time"]), eventSource: row["source"], username: row["username"],
                    resources: resources, cloudTrailEvent: row["body"])))
            }
            let token = more ? events.last.map { Data(String($0.seq).utf8).base64EncodedString() } : nil
            return (events.map(\.event), token)
        }
    }

    // MARK: Building an event

    func event(_ call: RecordedCall) -> TrailEvent {
        let eventId = UUID().uuidString.lowercased()
        let (identity, username, accessKey) = userIdentity(call)
        let requestParameters = call.requestParameters.map(Self.redacted)
        let responseElements = call.readOnly || call.errorCode != nil ? nil : call.responseElements.map(Self.redacted)
        var body: [String: JSON] = [
            "eventVersion": "1.09", "userIdentity": identity, "eventTime": .string(Self.timestamp(call.time)),
            "eventSource": .string(call.eventSource), "eventName": .string(call.eventName), "awsRegion": .string(call.region),
            "sourceIPAddress": .string(call.sourceIPAddress), "userAgent": .string(call.userAgent),
            "requestParameters": requestParameters ?? .null, "responseElements": responseElements ?? .null,
            "requestID": .string(call.requestId), "eventID": .string(eventId), "readOnly": .bool(call.readOnly), "eventType": "AwsApiCall",
            "managementEvent": true, "recipientAccountId": .string(account), "eventCategory": "Management",
        ]
        if let code = call.errorCode {
            body["errorCode"] = .string(code)
            body["errorMessage"] = .string(call.errorMessage ?? "")
        }
        return TrailEvent(eventId: eventId, eventName: call.eventName, readOnly: call.readOnly, accessKeyId: accessKey, eventTime: call.time,
                          eventSource: call.eventSource, username: username,
                          resources: Self.resources(call.requestParameters ?? [:], source: call.eventSource),
                          cloudTrailEvent: String(decoding: JSONCoding.encode(.object(body)), as: UTF8.self))
    }

    /// `userIdentity`, and the user name and access key the lookup attributes match.
    func userIdentity(_ call: RecordedCall) -> (identity: JSON, username: String?, accessKey: String?) {
        guard let caller = call.caller, !caller.identity.arn.isEmpty else {
            var identity: JSON = ["type": "Unknown"]
            if call.eventName == "AssumeRoleWithWebIdentity" {
                identity = ["type": "WebIdentityUser", "identityProvider": .string(call.requestParameters?["providerId"]?.string ?? ""),
                            "userName": ""]
            }
            return (identity, nil, nil)
        }
        let id = caller.identity
        if let session = AssumedRoleARN(id.arn) {
            let identity: JSON = [
                "type": "AssumedRole", "principalId": .string(id.userId), "arn": .string(id.arn), "accountId": .string(id.account),
                "accessKeyId": .string(caller.accessKeyId),
                "sessionContext": [
                    "sessionIssuer": ["type": "Role", "principalId": .string(id.userId.split(separator: ":").first.map(String.init) ?? id.userId),
                                      "arn": .string(session.roleArn), "accountId": .string(id.account), "userName": .string(session.roleName)],
                    "attributes": ["creationDate": .string(Self.timestamp(call.time)), "mfaAuthenticated": "false"],
                ],
            ]
            return (identity, session.sessionName, caller.accessKeyId)
        }
        if id.arn.hasSuffix(":root") {
            return (["type": "Root", "principalId": .string(id.account), "arn": .string(id.arn), "accountId": .string(id.account),
                     "accessKeyId": .string(caller.accessKeyId)],
                    "root", caller.accessKeyId)
        }
        let name = id.arn.split(separator: "/").last.map(String.init) ?? id.arn
        return (["type": "IAMUser", "principalId": .string(id.userId), "arn": .string(id.arn), "accountId": .string(id.account),
                 "accessKeyId": .string(caller.accessKeyId), "userName": .string(name)], name, caller.accessKeyId)
    }

    /// The resources a call names, by the parameters that name them.
    static func resources(_ parameters: JSON, source: String) -> [TrailEvent.Resource] {
        let kinds: [(String, String)] = [
            ("clusterName", "AWS::EKS::Cluster"), ("nodegroupName", "AWS::EKS::Nodegroup"), ("userName", "AWS::IAM::User"),
            ("roleName", "AWS::IAM::Role"), ("logGroupName", "AWS::Logs::LogGroup"), ("keyId", "AWS::KMS::Key"),
            ("roleArn", "AWS::IAM::Role"), ("instanceId", "AWS::EC2::Instance"),
        ]
        var found: [TrailEvent.Resource] = []
        for (key, type) in kinds {
            if let value = parameters[key]?.string { found.append(TrailEvent.Resource(ResourceType: type, ResourceName: value)) }
        }
        // EKS names a cluster `name` in the calls on the cluster itself.
        if source == "eks.amazonaws.com", parameters["clusterName"] == nil, let name = parameters["name"]?.string {
            found.insert(TrailEvent.Resource(ResourceType: "AWS::EKS::Cluster", ResourceName: name), at: 0)
        }
        return found
    }

    /// `value` with every secret member, at any depth, replaced by `hidden`.
    static func redacted(_ value: JSON) -> JSON {
        switch value {
        case .object(let members):
            .object(Dictionary(uniqueKeysWithValues: members.map { key, member in
                (key, secretKeys.contains(key.lowercased()) ? .string(hidden) : redacted(member))
            }))
        case .array(let items): .array(items.map(redacted))
        default: value
        }
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
