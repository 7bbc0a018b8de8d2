import Foundation
import Testing
@testable import CloudWatchLogs

struct LogsServiceTests {
    let logs: LogsService
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-logs-\(UUID())")

    init() throws {
        logs = try LogsService(directory: directory, region: "us-east-1", account: "000000000000")
    }

    func code(_ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as LogsError {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func groupsAndStreamsAreCreatedOnceAndListedInPages() async throws {
        for name in ["/aws/eks/a/cluster", "/aws/eks/b/cluster", "app"] { try await logs.createLogGroup(name: name) }
        #expect(await code { try await logs.createLogGroup(name: "app") } == "ResourceAlreadyExistsException")
        #expect(await code { try await logs.createLogGroup(name: "bad name") } == "InvalidParameterException")
        let first = try await logs.describeLogGroups(prefix: "/aws/eks/", pattern: nil, logGroupClass: nil, limit: 1, nextToken: nil)
        #expect(first.items.map(\.logGroupName) == ["/aws/eks/a/cluster"])
        #expect(first.items[0].arn == "arn:aws:logs:us-east-1:000000000000:log-group:/aws/eks/a/cluster:*")
        let second = try await logs.describeLogGroups(prefix: "/aws/eks/", pattern: nil, logGroupClass: nil, limit: 1, nextToken: first.nextToken)
        #expect(second.items.map(\.logGroupName) == ["/aws/eks/b/cluster"] && second.nextToken == nil)
        #expect(try await logs.describeLogGroups(prefix: nil, pattern: "EKS/B", logGroupClass: nil, limit: nil, nextToken: nil).items.count == 1)

        try await logs.createLogStream(group: "app", name: "web-1")
        #expect(await code { try await logs.createLogStream(group: "app", name: "web-1") } == "ResourceAlreadyExistsException")
        #expect(await code { try await logs.createLogStream(group: "nope", name: "web-1") } == "ResourceNotFoundException")
        #expect(await code { try await logs.createLogStream(group: "app", name: "a:b") } == "InvalidParameterException")
        try await logs.deleteLogGroup(name: "app")
        #expect(await code { try await logs.deleteLogGroup(name: "app") } == "ResourceNotFoundException")
    }

    @Test func eventsGoInInTimeOrderAndComeOutByTokens() async throws {
        try await logs.createLogGroup(name: "app")
        try await logs.createLogStream(group: "app", name: "web")
        let now = LogsService.now()
        let events = (0..<5).map { InputLogEvent(timestamp: now - 5000 + Int64($0) * 1000, message: "line \($0)\($0 == 3 ? " ERROR" : "")") }
        let put = try await logs.putLogEvents(group: "app", stream: "web", events: events)
        #expect(put.rejected.isEmpty)
        #expect(await code { _ = try await logs.putLogEvents(group: "app", stream: "web", events: events.reversed()) } == "InvalidParameterException")
        #expect(await code { _ = try await logs.putLogEvents(group: "app", stream: "nope", events: events) } == "ResourceNotFoundException")
        // Too new, too old: left out and reported, the rest kept.
        let old = try await logs.putLogEvents(group: "app", stream: "web", events: [InputLogEvent(timestamp: now - 15 * LogsService.day, message: "old")])
        #expect(old.rejected == RejectedLogEvents(tooOldLogEventEndIndex: 0))
        let mixed = [InputLogEvent(timestamp: now, message: "fine"), InputLogEvent(timestamp: now + 3 * 3_600_000, message: "future")]
        let partial = try await logs.putLogEvents(group: "app", stream: "web", events: mixed)
        #expect(partial.rejected == RejectedLogEvents(tooNewLogEventStartIndex: 1))

        let latest = try await logs.getLogEvents(group: "app", stream: "web", start: nil, end: nil, nextToken: nil, limit: 2, startFromHead: nil)
        #expect(latest.events.map(\.message) == ["line 4", "fine"])
        let earlier = try await logs.getLogEvents(group: "app", stream: "web", start: nil, end: nil, nextToken: latest.nextBackwardToken,
                                                  limit: 2, startFromHead: nil)
        #expect(earlier.events.map(\.message) == ["line 2", "line 3 ERROR"])
        let head = try await logs.getLogEvents(group: "app", stream: "web", start: nil, end: nil, nextToken: nil, limit: 2, startFromHead: true)
        #expect(head.events.map(\.message) == ["line 0", "line 1"])
        // Following a stream: the forward token of the last page returns nothing new, and the same token.
        let end = try await logs.getLogEvents(group: "app", stream: "web", start: nil, end: nil, nextToken: latest.nextForwardToken,
                                              limit: nil, startFromHead: nil)
        #expect(end.events.isEmpty && end.nextForwardToken == latest.nextForwardToken)

        let errors = try await logs.filterLogEvents(group: "app", streamNames: nil, streamPrefix: nil, start: nil, end: nil,
                                                    pattern: "ERROR", nextToken: nil, limit: nil)
        #expect(errors.events.map(\.message) == ["line 3 ERROR"] && errors.nextToken == nil)
        #expect(errors.events[0].eventId.count == 56)
        let paged = try await logs.filterLogEvents(group: "app", streamNames: ["web"], streamPrefix: nil, start: now - 4500, end: nil,
                                                   pattern: "line", nextToken: nil, limit: 2)
        #expect(paged.events.map(\.message) == ["line 1", "line 2"])
        let rest = try await logs.filterLogEvents(group: "app", streamNames: ["web"], streamPrefix: nil, start: now - 4500, end: nil,
                                                  pattern: "line", nextToken: paged.nextToken, limit: 2)
        #expect(rest.events.map(\.message) == ["line 3 ERROR", "line 4"])

        let stream = try await logs.describeLogStreams(group: "app", prefix: nil, orderBy: nil, descending: nil, limit: nil, nextToken: nil)
        #expect(stream.items.first?.firstEventTimestamp == now - 5000 && stream.items.first?.lastEventTimestamp == now)
    }

    @Test func retentionExpiresOldEvents() async throws {
        try await logs.createLogGroup(name: "app")
        try await logs.createLogStream(group: "app", name: "web")
        let now = LogsService.now()
        _ = try await logs.putLogEvents(group: "app", stream: "web", events: [InputLogEvent(timestamp: now - 2 * LogsService.day, message: "two days ago")])
        _ = try await logs.putLogEvents(group: "app", stream: "web", events: [InputLogEvent(timestamp: now, message: "today")])
        #expect(await code { try await logs.putRetentionPolicy(name: "app", days: 2) } == "InvalidParameterException")
        try await logs.putRetentionPolicy(name: "app", days: 1)
        let left = try await logs.filterLogEvents(group: "app", streamNames: nil, streamPrefix: nil, start: nil, end: nil, pattern: nil,
                                                  nextToken: nil, limit: nil)
        #expect(left.events.map(\.message) == ["today"])
        let group = try await logs.describeLogGroups(prefix: "app", pattern: nil, logGroupClass: nil, limit: nil, nextToken: nil).items.first
        #expect(group?.retentionInDays == 1)
    }

    @Test func theTextIndexFindsWhatAScanFindsBeforeAndAfterItCatchesUp() async throws {
        try await logs.createLogGroup(name: "app")
        try await logs.createLogStream(group: "app", name: "web")
        let now = LogsService.now()
        func put(_ messages: [String]) async throws {
            _ = try await logs.putLogEvents(group: "app", stream: "web", events: messages.map { InputLogEvent(timestamp: now, message: $0) })
        }
        func found(_ pattern: String) async throws -> [String] {
            try await logs.filterLogEvents(group: "app", streamNames: nil, streamPrefix: nil, start: nil, end: nil, pattern: pattern,
                                           nextToken: nil, limit: nil).events.map(\.message)
        }
        try await put(["GET /healthz 200", "POST /api 500 timeout", "GET /api 404"])
        #expect(try await found("timeout") == ["POST /api 500 timeout"])
        #expect(try await logs.indexPendingEvents() == 3)
        try await put(["PUT /api 500 timeout again"])
        #expect(try await found("timeout") == ["POST /api 500 timeout", "PUT /api 500 timeout again"])
        #expect(try await found("?healthz ?again") == ["GET /healthz 200", "PUT /api 500 timeout again"])
        #expect(try await found("\"/api 500\" -again") == ["POST /api 500 timeout"])
        #expect(try await found("Timeout").isEmpty)
        try await logs.deleteLogStream(group: "app", name: "web")
        try await logs.createLogStream(group: "app", name: "web")
        #expect(try await found("timeout").isEmpty)
    }
}
