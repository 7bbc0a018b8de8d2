import Foundation
import KubeModel

/// A value kept in the region database: a JSON document under a kind and a key.
///
/// Keys that share a prefix up to a `/` form a family (a cluster's node groups
/// are `cluster/nodegroup`), which `RecordReader.all(_:keyPrefix:)` lists.
public protocol StoredRecord: Codable, Sendable {
    /// The table-wide name of this record type, e.g. `eks.cluster`.
    static var kind: String { get }
    var storeKey: String { get }
}

enum RecordCoding {
    /// Sorted keys, dates as seconds since 1970.
    static func encode(_ record: some Encodable) throws -> Data {
        Data(try JSONValueEncoder().encodeToBytes(record))
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
}
