import Foundation
import GRDB

/// CloudWatch Logs for one region: log groups, their streams and events, kept in `logs.sqlite` in the data
/// dir (WAL, fsynced at each commit: an acknowledged `PutLogEvents` survives `kill -9`). Events are indexed by
/// group, stream and time, so that a filter reads only the span it asks for.
public final class LogsService: Sendable {
    public static let retentionDays: Set = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                                            2922, 3288, 3653]
    static let maxBatchBytes = 1_048_576
    static let eventOverhead = 26
    static let maxEventBytes = 1_048_576 - 26
    static let day: Int64 = 86_400_000

    let pool: DatabasePool
    public let region: String
    public let account: String

    public init(directory: URL, region: String, account: String) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: directory.appendingPathComponent("logs.sqlite").path, configuration: configuration)
        self.region = region
        self.account = account
        try Self.migrator.migrate(pool)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("logs") { db in
            try db.execute(sql: """
                CREATE TABLE log_group (
                    name TEXT PRIMARY KEY, created INTEGER NOT NULL, retention INTEGER, kms_key TEXT, class TEXT NOT NULL,
                    tags TEXT NOT NULL, deletion_protection INTEGER NOT NULL, stored_bytes INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE log_stream (
                    grp TEXT NOT NULL, name TEXT NOT NULL, created INTEGER NOT NULL, first_ts INTEGER, last_ts INTEGER,
                    last_ingest INTEGER, stored_bytes INTEGER NOT NULL DEFAULT 0, uploads INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (grp, name)
                );
                CREATE TABLE log_event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, stream TEXT NOT NULL, ts INTEGER NOT NULL,
                    ingest INTEGER NOT NULL, message TEXT NOT NULL
                );
                CREATE INDEX log_event_by_stream ON log_event (grp, stream, ts, id);
                CREATE INDEX log_event_by_group ON log_event (grp, ts, id);
                """)
        }
        migrator.registerMigration("log text index") { db in
            // Trigrams of the messages, case-sensitive as filter terms are: a term of three bytes or more finds
            // its events without reading the others. Indexing trails the writes (`indexPendingEvents`), so that
            // writing stays fast; events past `indexed` are searched by reading them.
            try db.execute(sql: """
                CREATE VIRTUAL TABLE log_event_text USING fts5(message, content='log_event', content_rowid='id',
                                                                tokenize='trigram case_sensitive 1');
                CREATE TABLE log_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                INSERT INTO log_meta VALUES ('indexed', 0);
                CREATE TRIGGER log_event_unindexed AFTER DELETE ON log_event
                WHEN old.id <= (SELECT value FROM log_meta WHERE name = 'indexed') BEGIN
                    INSERT INTO log_event_text (log_event_text, rowid, message) VALUES ('delete', old.id, old.message);
                END;
                """)
        }
        return migrator
    }

    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }

    // MARK: Log groups

    public func createLogGroup(name: String, kmsKeyId: String? = nil, tags: [String: String] = [:], logGroupClass: String? = nil,
                               deletionProtection: Bool = false) async throws {
        try Self.validateGroupName(name)
        let groupClass = logGroupClass ?? "STANDARD"
        guard ["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(groupClass) else {
            throw LogsError.validation(groupClass, at: "logGroupClass", "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")
        }
        let tagText = String(decoding: try JSONEncoder().encode(tags), as: UTF8.self)
        try await pool.write { db in
            guard try Self.groupExists(db, name) == false else { throw LogsError.groupExists }
            try db.execute(sql: "INSERT INTO log_group (name, created, kms_key, class, tags, deletion_protection) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [name, Self.now(), kmsKeyId, groupClass, tagText, deletionProtection])
        }
    }

    public func deleteLogGroup(name: String) async throws {
        try await pool.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT deletion_protection FROM log_group WHERE name = ?", arguments: [name]) else {
                throw LogsError.noSuchGroup
            }
            if row[0] as Bool {
                throw LogsError("ValidationException", "Log group \(name) has deletion protection enabled; turn it off to delete the group.")
            }
            try db.execute(sql: "DELETE FROM log_event WHERE grp = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM log_stream WHERE grp = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM log_group WHERE name = ?", arguments: [name])
        }
    }

    public func putRetentionPolicy(name: String, days: Int) async throws {
        guard Self.retentionDays.contains(days) else {
            throw LogsError.validation(String(days), at: "retentionInDays",
                                       "Member must satisfy enum value set: [\(Self.retentionDays.sorted().map(String.init).joined(separator: ", "))]")
        }
        try await setRetention(name: name, days: days)
        try await expireEvents()
    }

    public func deleteRetentionPolicy(name: String) async throws {
        try await setRetention(name: name, days: nil)
    }

    private func setRetention(name: String, days: Int?) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE log_group SET retention = ? WHERE name = ?", arguments: [days, name])
            guard db.changesCount > 0 else { throw LogsError.noSuchGroup }
        }
    }

    public func describeLogGroups(prefix: String?, pattern: String?, logGroupClass: String?, limit: Int?,
                                  nextToken: String?) async throws -> LogsPage<LogGroup> {
        if prefix != nil, pattern != nil {
            throw LogsError.invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
        }
        let limit = try Self.limit(limit, max: 50, field: "limit")
        let after = try nextToken.map(Self.decodeToken) ?? ""
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM log_group WHERE name > ? ORDER BY name", arguments: [after])
        }
        let groups = rows.map(group).filter { group in
            (prefix.map { group.logGroupName.hasPrefix($0) } ?? true)
                && (pattern.map { $0.isEmpty || group.logGroupName.lowercased().contains($0.lowercased()) } ?? true)
                && (logGroupClass.map { group.logGroupClass == $0 } ?? true)
        }
        let page = Array(groups.prefix(limit))
        return LogsPage(items: page, nextToken: groups.count > limit ? page.last.map { Self.encodeToken($0.logGroupName) } : nil)
    }

    public func logGroupArn(_ name: String) -> String { "arn:aws:logs:\(region):\(account):log-group:\(name)" }

    private func group(_ row: Row) -> LogGroup {
        let name: String = row["name"]
        return LogGroup(logGroupName: name, creationTime: row["created"], retentionInDays: row["retention"], metricFilterCount: 0,
                        arn: logGroupArn(name) + ":*", storedBytes: row["stored_bytes"], kmsKeyId: row["kms_key"],
                        logGroupClass: row["class"], logGroupArn: logGroupArn(name), deletionProtectionEnabled: row["deletion_protection"])
    }

    // MARK: Log streams

    public func createLogStream(group: String, name: String) async throws {
        try Self.validateStreamName(name)
        try await pool.write { db in
            guard try Self.groupExists(db, group) else { throw LogsError.noSuchGroup }
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM log_stream WHERE grp = ? AND name = ?", arguments: [group, name]) == nil else {
                throw LogsError.streamExists
            }
            try db.execute(sql: "INSERT INTO log_stream (grp, name, created) VALUES (?, ?, ?)", arguments: [group, name, Self.now()])
        }
    }

    public func deleteLogStream(group: String, name: String) async throws {
        try await pool.write { db in
            guard try Self.groupExists(db, group) else { throw LogsError.noSuchGroup }
            try db.execute(sql: "DELETE FROM log_stream WHERE grp = ? AND name = ?", arguments: [group, name])
            guard db.changesCount > 0 else { throw LogsError.noSuchStream }
            try db.execute(sql: "DELETE FROM log_event WHERE grp = ? AND stream = ?", arguments: [group, name])
        }
    }

    public enum StreamOrder: String, Sendable { case logStreamName = "LogStreamName", lastEventTime = "LastEventTime" }

    public func describeLogStreams(group: String, prefix: String?, orderBy: StreamOrder?, descending: Bool?, limit: Int?,
                                   nextToken: String?) async throws -> LogsPage<LogStream> {
        let order = orderBy ?? .logStreamName
        if order == .lastEventTime, prefix != nil {
            throw LogsError.invalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
        }
        let limit = try Self.limit(limit, max: 50, field: "limit")
        let skip = try nextToken.map { Int(try Self.decodeToken($0)) ?? 0 } ?? 0
        let rows = try await pool.read { db in
            guard try Self.groupExists(db, group) else { throw LogsError.noSuchGroup }
            return try Row.fetchAll(db, sql: "SELECT * FROM log_stream WHERE grp = ?", arguments: [group])
        }
        var streams = rows.map { stream(group: group, $0) }.filter { prefix.map($0.logStreamName.hasPrefix) ?? true }
        switch order {
        case .logStreamName: streams.sort { $0.logStreamName < $1.logStreamName }
        case .lastEventTime: streams.sort { ($0.lastEventTimestamp ?? 0, $0.logStreamName) < ($1.lastEventTimestamp ?? 0, $1.logStreamName) }
        }
        if descending == true { streams.reverse() }
        let page = Array(streams.dropFirst(skip).prefix(limit))
        return LogsPage(items: page, nextToken: streams.count > skip + limit ? Self.encodeToken(String(skip + limit)) : nil)
    }

    private func stream(group: String, _ row: Row) -> LogStream {
        let name: String = row["name"]
        let uploads: Int64 = row["uploads"]
        return LogStream(logStreamName: name, creationTime: row["created"], firstEventTimestamp: row["first_ts"],
                         lastEventTimestamp: row["last_ts"], lastIngestionTime: row["last_ingest"],
                         uploadSequenceToken: Self.sequenceToken(uploads), arn: "\(logGroupArn(group)):log-stream:\(name)",
                         storedBytes: row["stored_bytes"])
    }

    static func sequenceToken(_ uploads: Int64) -> String {
        let digits = String(uploads + 1)
        return "4960" + String(repeating: "0", count: max(0, 52 - digits.count)) + digits
    }

    // MARK: Helpers

    static func groupExists(_ db: Database, _ name: String) throws -> Bool {
        try Row.fetchOne(db, sql: "SELECT 1 FROM log_group WHERE name = ?", arguments: [name]) != nil
    }

    /// The oldest timestamp the group still keeps.
    static func expiryFloor(_ db: Database, _ group: String) throws -> Int64 {
        guard let days = try Int64.fetchOne(db, sql: "SELECT retention FROM log_group WHERE name = ?", arguments: [group]) else { return Int64.min }
        return now() - days * day
    }

    static func validateGroupName(_ name: String) throws(LogsError) {
        let allowed = CharacterSet(charactersIn: "._-/#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        guard (1...512).contains(name.count), name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw LogsError.validation(name, at: "logGroupName", "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+")
        }
    }

    static func validateStreamName(_ name: String) throws(LogsError) {
        guard (1...512).contains(name.count), !name.contains(":"), !name.contains("*") else {
            throw LogsError.validation(name, at: "logStreamName", "Member must satisfy regular expression pattern: [^:*]*")
        }
    }

    static func limit(_ limit: Int?, max: Int, field: String, default fallback: Int? = nil) throws(LogsError) -> Int {
        guard let limit else { return fallback ?? max }
        guard (1...max).contains(limit) else {
            throw LogsError.validation(String(limit), at: field, limit < 1 ? "Member must have value greater than or equal to 1"
                                                                             : "Member must have value less than or equal to \(max)")
        }
        return limit
    }

    static func encodeToken(_ position: String) -> String { Data(position.utf8).base64EncodedString() }

    static func decodeToken(_ token: String) throws(LogsError) -> String {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
            throw LogsError.invalidParameter("The specified nextToken is invalid.")
        }
        return text
    }

    /// `f/TS/ID`, `b/TS/ID` or `TS/ID`.
    static func positionToken(_ token: String) -> (forward: Bool, ts: Int64, id: Int64)? {
        var parts = token.split(separator: "/").map(String.init)
        var forward = true
        if parts.first == "f" || parts.first == "b" {
            forward = parts.removeFirst() == "f"
        }
        guard parts.count == 2, let ts = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        return (forward, ts, id)
    }
}
