import Foundation
import GRDB

/// Writing, reading and filtering events.
extension LogsService {
    public struct PutResult: Sendable {
        public let nextSequenceToken: String
        public let rejected: RejectedLogEvents
    }

    /// Writes a batch to one stream, refusing it whole when it breaks the service's rules and leaving out (and
    /// reporting) the events too new, too old, or older than the group keeps.
    public func putLogEvents(group: String, stream: String, events: [InputLogEvent], now: Int64 = LogsService.now()) async throws -> PutResult {
        guard !events.isEmpty else {
            throw LogsError.validation("[]", at: "logEvents", "Member must have length greater than or equal to 1")
        }
        guard events.count <= 10_000 else {
            throw LogsError.validation("[…]", at: "logEvents", "Member must have length less than or equal to 10000")
        }
        var bytes = 0
        for (index, event) in events.enumerated() {
            guard !event.message.isEmpty else {
                throw LogsError.validation("", at: "logEvents.\(index + 1).member.message", "Member must have length greater than or equal to 1")
            }
            bytes += event.message.utf8.count + Self.eventOverhead
            if index > 0, event.timestamp < events[index - 1].timestamp {
                throw LogsError.invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
            }
        }
        guard bytes <= Self.maxBatchBytes else {
            throw LogsError.invalidParameter("Upload too large: \(bytes) bytes exceeds limit of \(Self.maxBatchBytes)")
        }
        if let first = events.first, let last = events.last, last.timestamp - first.timestamp > Self.day {
            throw LogsError.invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
        }
        return try await pool.write { db in
            guard let retention = try Row.fetchOne(db, sql: "SELECT retention FROM log_group WHERE name = ?", arguments: [group]) else {
                throw LogsError.noSuchGroup
            }
            guard let uploads = try Int64.fetchOne(db, sql: "SELECT uploads FROM log_stream WHERE grp = ? AND name = ?", arguments: [group, stream])
            else { throw LogsError.noSuchStream }
            var rejected = RejectedLogEvents()
            let retentionDays: Int? = retention[0]
            let expiredBefore = retentionDays.map { now - Int64($0) * Self.day }
            var accepted: [InputLogEvent] = []
            for (index, event) in events.enumerated() {
                if event.timestamp > now + 2 * 3_600_000 {
                    if rejected.tooNewLogEventStartIndex == nil { rejected.tooNewLogEventStartIndex = index }
                } else if event.timestamp < now - 14 * Self.day {
                    rejected.tooOldLogEventEndIndex = index
                } else if let expiredBefore, event.timestamp < expiredBefore {
                    rejected.expiredLogEventEndIndex = index
                } else {
                    accepted.append(event)
                }
            }
            try Self.insert(db, group: group, stream: stream, accepted, ingest: now)
            try db.execute(sql: "UPDATE log_stream SET uploads = uploads + 1 WHERE grp = ? AND name = ?", arguments: [group, stream])
            return PutResult(nextSequenceToken: Self.sequenceToken(uploads + 1), rejected: rejected)
        }
    }

    /// Appends what Skiff's own components log, creating the group and stream if they are new (as EKS creates
    /// a cluster's log group when it first ships to it); events need no ordering.
    public func append(group: String, stream: String, _ events: [InputLogEvent]) async throws {
        guard !events.isEmpty else { return }
        let now = Self.now()
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO log_group (name, created, class, tags, deletion_protection) VALUES (?, ?, 'STANDARD', '{}', 0)",
                           arguments: [group, now])
            try db.execute(sql: "INSERT OR IGNORE INTO log_stream (grp, name, created) VALUES (?, ?, ?)", arguments: [group, stream, now])
            try Self.insert(db, group: group, stream: stream, events, ingest: now)
        }
    }

    static func insert(_ db: Database, group: String, stream: String, _ events: [InputLogEvent], ingest: Int64) throws {
        guard !events.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "INSERT INTO log_event (grp, stream, ts, ingest, message) VALUES (?, ?, ?, ?, ?)")
        var stored = 0
        for event in events {
            try statement.execute(arguments: [group, stream, event.timestamp, ingest, event.message])
            stored += event.message.utf8.count
        }
        let first = events.map(\.timestamp).min()!, last = events.map(\.timestamp).max()!
        try db.execute(sql: """
            UPDATE log_stream SET first_ts = MIN(COALESCE(first_ts, ?), ?), last_ts = MAX(COALESCE(last_ts, ?), ?), last_ingest = ?,
                stored_bytes = stored_bytes + ? WHERE grp = ? AND name = ?
            """, arguments: [first, first, last, last, ingest, stored, group, stream])
        try db.execute(sql: "UPDATE log_group SET stored_bytes = stored_bytes + ? WHERE name = ?", arguments: [stored, group])
    }

    public struct EventsPage: Sendable {
        public let events: [StoredLogEvent]
        public let nextForwardToken: String
        public let nextBackwardToken: String
    }

    /// A stream's events in time order within `[start, end)`: the newest `limit` of them, or the oldest when
    /// `startFromHead`; a token (`f/…` or `b/…`) continues after or before the page that gave it.
    public func getLogEvents(group: String, stream: String, start: Int64?, end: Int64?, nextToken: String?, limit: Int?,
                             startFromHead: Bool?) async throws -> EventsPage {
        let limit = try Self.limit(limit, max: 10_000, field: "limit", default: 10_000)
        var forwards = startFromHead ?? false
        var position: (ts: Int64, id: Int64)?
        if let nextToken {
            guard let parsed = Self.positionToken(nextToken) else { throw LogsError.invalidParameter("The specified nextToken is invalid.") }
            forwards = parsed.forward
            position = (parsed.ts, parsed.id)
        }
        let forward = forwards, cursor = position
        let rows = try await pool.read { db in
            guard try Self.groupExists(db, group) else { throw LogsError.noSuchGroup }
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM log_stream WHERE grp = ? AND name = ?", arguments: [group, stream]) != nil else {
                throw LogsError.noSuchStream
            }
            let floor = try Self.expiryFloor(db, group)
            var sql = "SELECT id, ts, ingest, message FROM log_event WHERE grp = ? AND stream = ? AND ts >= ? AND ts < ?"
            var arguments: StatementArguments = [group, stream, max(start ?? Int64.min, floor), end ?? Int64.max]
            if let cursor {
                sql += forward ? " AND (ts, id) > (?, ?)" : " AND (ts, id) < (?, ?)"
                arguments += [cursor.ts, cursor.id]
            }
            sql += forward ? " ORDER BY ts, id LIMIT ?" : " ORDER BY ts DESC, id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments)
        }
        var events = rows.map { StoredLogEvent(id: $0["id"], logStreamName: stream, timestamp: $0["ts"], ingestionTime: $0["ingest"], message: $0["message"]) }
        if !forward { events.reverse() }
        // An empty page keeps the caller where it was, so a follower polls with the same token.
        let here = cursor.map { "\($0.ts)/\($0.id)" }
        let head = events.first.map { "\($0.timestamp)/\($0.id)" } ?? here ?? "\(start ?? 0)/0"
        let tail = events.last.map { "\($0.timestamp)/\($0.id)" } ?? here ?? "\(end ?? Int64.max)/\(Int64.max)"
        return EventsPage(events: events, nextForwardToken: "f/" + tail, nextBackwardToken: "b/" + head)
    }

    public struct FilterPage: Sendable {
        public let events: [StoredLogEvent]
        public let nextToken: String?
    }

    /// The group's events that match `pattern`, in time order across its streams.
    public func filterLogEvents(group: String, streamNames: [String]?, streamPrefix: String?, start: Int64?, end: Int64?,
                                pattern: String?, nextToken: String?, limit: Int?) async throws -> FilterPage {
        if streamNames != nil, streamPrefix != nil {
            throw LogsError.invalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive.")
        }
        let filter = try FilterPattern(pattern ?? "")
        let limit = try Self.limit(limit, max: 10_000, field: "limit", default: 10_000)
        var position: (ts: Int64, id: Int64)?
        if let nextToken {
            guard let parsed = Self.positionToken(try Self.decodeToken(nextToken)) else {
                throw LogsError.invalidParameter("The specified nextToken is invalid.")
            }
            position = (parsed.ts, parsed.id)
        }
        let cursor = position
        return try await pool.read { db in
            guard try Self.groupExists(db, group) else { throw LogsError.noSuchGroup }
            let floor = try Self.expiryFloor(db, group)
            var sql = "SELECT id, stream, ts, ingest, message FROM log_event WHERE grp = ? AND ts >= ? AND ts < ?"
            var arguments: StatementArguments = [group, max(start ?? Int64.min, floor), end ?? Int64.max]
            if let cursor {
                sql += " AND (ts, id) > (?, ?)"
                arguments += [cursor.ts, cursor.id]
            }
            if let streamNames {
                sql += " AND stream IN (\(streamNames.map { _ in "?" }.joined(separator: ",")))"
                arguments += StatementArguments(streamNames)
            }
            if let streamPrefix {
                sql += " AND substr(stream, 1, ?) = ?"
                arguments += [streamPrefix.count, streamPrefix]
            }
            let prefilter = filter.storageConditions
            if let match = filter.textIndexQuery {
                // Indexed events by the index; the newest, not indexed yet, by reading them.
                sql += " AND (id IN (SELECT rowid FROM log_event_text WHERE log_event_text MATCH ?)"
                    + " OR (id > (SELECT value FROM log_meta WHERE name = 'indexed')\(prefilter.sql)))"
                arguments += [match]
                arguments += StatementArguments(prefilter.arguments)
            } else {
                sql += prefilter.sql
                arguments += StatementArguments(prefilter.arguments)
            }
            sql += " ORDER BY ts, id"
            var events: [StoredLogEvent] = []
            var bytes = 0
            var more = false
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() {
                let message: String = row[4]
                guard filter.matches(message) else { continue }
                if events.count == limit || bytes + message.utf8.count > Self.maxBatchBytes {
                    more = true
                    break
                }
                bytes += message.utf8.count
                events.append(StoredLogEvent(id: row[0], logStreamName: row[1], timestamp: row[2], ingestionTime: row[3], message: message))
            }
            let token = more ? events.last.map { Self.encodeToken("\($0.timestamp)/\($0.id)") } : nil
            return FilterPage(events: events, nextToken: token)
        }
    }

    /// Adds up to `limit` of the events written since the last call to the text index; returns how many.
    @discardableResult
    public func indexPendingEvents(limit: Int = 5_000) async throws -> Int {
        try await pool.write { db in
            let indexed = try Int64.fetchOne(db, sql: "SELECT value FROM log_meta WHERE name = 'indexed'") ?? 0
            guard let last = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM (SELECT id FROM log_event WHERE id > ? ORDER BY id LIMIT ?)",
                                                arguments: [indexed, limit]) else { return 0 }
            try db.execute(sql: "INSERT INTO log_event_text (rowid, message) SELECT id, message FROM log_event WHERE id > ? AND id <= ?",
                           arguments: [indexed, last])
            try db.execute(sql: "UPDATE log_meta SET value = ? WHERE name = 'indexed'", arguments: [last])
            return Int(last - indexed)
        }
    }

    /// Deletes the events each group keeps no longer; reads leave them out already.
    public func expireEvents(now: Int64 = LogsService.now()) async throws {
        try await pool.write { db in
            let groups = try Row.fetchAll(db, sql: "SELECT name, retention FROM log_group WHERE retention IS NOT NULL")
            for group in groups {
                let name: String = group[0], days: Int64 = group[1]
                try db.execute(sql: "DELETE FROM log_event WHERE grp = ? AND ts < ?", arguments: [name, now - days * Self.day])
            }
        }
    }
}
