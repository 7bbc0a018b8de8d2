/// A revisioned key-value store with etcd's semantics: every write gets the
/// next global revision; create fails if the key exists; update and delete
/// can require the key's current revision (compare-and-swap); reads can be
/// taken at a past revision; a watch delivers every change under a prefix
/// from a revision on, in order and without gaps; compaction drops history.
///
/// Nothing above this protocol knows which engine runs underneath.
public protocol KubeStore: AnyObject, Sendable {
    /// The revision of the newest write (0 before any).
    func currentRevision() async throws -> Int64
    /// Revisions at or below this are compacted away.
    func compactedRevision() async throws -> Int64

    func create(_ key: String, value: [UInt8]) async throws -> KeyValue
    /// Replaces the value of an existing key; with `expectedRevision`, only if the key's current revision is that.
    func update(_ key: String, value: [UInt8], expectedRevision: Int64?) async throws -> KeyValue
    /// Removes a key; with `expectedRevision`, only if its current revision is that.
    /// Returns the removed key's last state and the revision of the delete.
    func delete(_ key: String, expectedRevision: Int64?) async throws -> (deleted: KeyValue, revision: Int64)

    func get(_ key: String) async throws -> KeyValue?
    /// Keys under a prefix, in key order, as of a revision (now when nil).
    func range(_ request: RangeRequest) async throws -> RangeResult
    /// Every change under `prefix` after `afterRevision`, then live changes; ends with `StoreError.compacted`
    /// if that history is gone, or `StoreError.watcherTooSlow` if the consumer falls behind.
    func watch(prefix: String, afterRevision: Int64) async throws -> WatchStream
    /// Drops the history at and below `revision` (each key keeps its state as of then).
    func compact(through revision: Int64) async throws
    /// Sends every watcher a `.progress` event with the current revision, after all the events
    /// up to it (etcd's progress notification): a watcher of a quiet prefix learns how far it is.
    func requestProgress() async throws
    /// Releases what the store holds open (files, connections); later calls fail. Stores that hold nothing of
    /// their own need not implement it.
    func close() async
}

extension KubeStore {
    public func close() async {}
}

/// A key's state at a revision.
public struct KeyValue: Sendable, Equatable {
    public let key: String
    public let value: [UInt8]
    /// The revision that created the key (since its last deletion).
    public let createRevision: Int64
    /// The revision of the last write to the key.
    public let modRevision: Int64
    /// How many times the key was written since it was created (1 after create).
    public let version: Int64

    public init(key: String, value: [UInt8], createRevision: Int64, modRevision: Int64, version: Int64) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
    }
}

public struct RangeRequest: Sendable {
    public var prefix: String
    /// Read as of this revision; nil reads the newest.
    public var revision: Int64?
    /// At most this many keys; nil for all.
    public var limit: Int?
    /// Only keys after this one (the continuation point of a paged list).
    public var startAfter: String?

    public init(prefix: String, revision: Int64? = nil, limit: Int? = nil, startAfter: String? = nil) {
        self.prefix = prefix
        self.revision = revision
        self.limit = limit
        self.startAfter = startAfter
    }
}

public struct RangeResult: Sendable {
    public let items: [KeyValue]
    /// The revision the read was taken at.
    public let revision: Int64
    /// More keys follow the last one returned.
    public let more: Bool

    public init(items: [KeyValue], revision: Int64, more: Bool) {
        self.items = items
        self.revision = revision
        self.more = more
    }
}

public enum WatchEvent: Sendable, Equatable {
    case put(KeyValue)
    /// The key's last state before the delete, and the delete's revision.
    case delete(KeyValue, revision: Int64)
    /// No key under the prefix changed between the last event and this revision.
    case progress(Int64)

    public var revision: Int64 {
        switch self {
        case .put(let kv): kv.modRevision
        case .delete(_, let revision): revision
        case .progress(let revision): revision
        }
    }

    public var key: String? {
        switch self {
        case .put(let kv), .delete(let kv, _): kv.key
        case .progress: nil
        }
    }
}

public typealias WatchStream = AsyncThrowingStream<WatchEvent, any Error>

public enum StoreError: Error, Equatable, Sendable {
    case keyExists(String)
    case keyNotFound(String)
    /// The key's revision is not the one expected; it carries the current state.
    case conflict(current: KeyValue)
    /// The revision asked for has been compacted; the oldest available is `compactedRevision + 1`.
    case compacted(compactedRevision: Int64)
    /// A revision newer than the store's.
    case futureRevision(Int64)
    /// A watcher did not keep up and was cut off.
    case watcherTooSlow
}

extension String {
    /// The smallest string greater than every string starting with `self`, for prefix ranges.
    var prefixEnd: String {
        var bytes = Array(utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return String(decoding: bytes, as: UTF8.self)
            }
            bytes.removeLast()
        }
        return "\u{10FFFF}"
    }
}
