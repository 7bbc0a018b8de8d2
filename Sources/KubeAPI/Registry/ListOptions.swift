import Foundation
import KubeModel

/// The query parameters of list and watch calls.
public struct ListOptions: Sendable {
    public var labelSelector = LabelSelector.everything
    public var fieldSelector = FieldSelector.everything
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    public var resourceVersionMatch: String?
    public var allowWatchBookmarks = false
    public var sendInitialEvents: Bool?
    public var timeoutSeconds: Int?

    public init() {}
}

/// The opaque `continue` token of a paged list: the revision the list is read at and the key to go on after.
struct ContinueToken: Codable {
    let v: String
    let rv: Int64
    let start: String

    init(revision: Int64, after key: String) {
        v = "meta.k8s.io/v1"
        rv = revision
        start = key
    }

    /// Base64url of `{"v":"meta.k8s.io/v1","rv":…,"start":"…"}`, as the API server writes it.
    var encoded: String {
        var writer = JSONWriter()
        writer.bytes += Array("{\"v\":".utf8)
        writer.write(string: v)
        writer.bytes += Array(",\"rv\":\(rv),\"start\":".utf8)
        writer.write(string: start)
        writer.bytes.append(UInt8(ascii: "}"))
        return Data(writer.bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws(APIError) -> ContinueToken {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let token = try? JSONDecoder().decode(ContinueToken.self, from: data) else {
            throw .badRequest("continue key is not valid: illegal base64 data at input byte 0")
        }
        return token
    }
}

/// The result of a list: objects, either decoded or (from the watch cache) still encoded.
public struct ObjectList: Sendable {
    enum Items: Sendable {
        case objects([JSON])
        case encoded([[UInt8]])
    }

    let contents: Items
    public let resourceVersion: String
    public let continueToken: String?
    public let remainingItemCount: Int64?

    init(items: [JSON], resourceVersion: String, continueToken: String?, remainingItemCount: Int64?) {
        self.init(contents: .objects(items), resourceVersion: resourceVersion, continueToken: continueToken,
                  remainingItemCount: remainingItemCount)
    }

    init(contents: Items, resourceVersion: String, continueToken: String?, remainingItemCount: Int64?) {
        self.contents = contents
        self.resourceVersion = resourceVersion
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }

    public var items: [JSON] {
        switch contents {
        case .objects(let objects): objects
        case .encoded(let encoded): encoded.compactMap { try? JSONCoding.decode($0) }
        }
    }

    var encodedItems: [[UInt8]] {
        switch contents {
        case .objects(let objects): objects.map(JSONCoding.encode)
        case .encoded(let encoded): encoded
        }
    }
}

/// An event of a watch, as the API server sends it.
public struct ObjectEvent: Sendable {
    public enum EventType: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }

    /// The object, or its encoding as the watch cache shares it among watchers (decoded only if asked).
    enum Payload: Sendable {
        case object(JSON)
        case encoded([UInt8])
    }

    public let type: EventType
    let payload: Payload

    public init(type: EventType, object: JSON) {
        self.type = type
        payload = .object(object)
    }

    init(type: EventType, encoded: [UInt8]) {
        self.type = type
        payload = .encoded(encoded)
    }

    public var object: JSON {
        switch payload {
        case .object(let object): object
        case .encoded(let bytes): (try? JSONCoding.decode(bytes)) ?? [:]
        }
    }

    var encodedObject: [UInt8] {
        switch payload {
        case .object(let object): JSONCoding.encode(object)
        case .encoded(let bytes): bytes
        }
    }
}
