import Synchronization
import KubeModel

/// The encoded OpenAPI documents (megabytes), built once per version of the resource table.
final class OpenAPICache: Sendable {
    private struct Entry {
        let revision: Int
        let json: [UInt8]
        let protobuf: [UInt8]
    }

    private struct V3 {
        let revision: Int
        let root: [UInt8]
        var documents: [String: [UInt8]]
    }

    private let entry = Mutex<Entry?>(nil)
    private let v3 = Mutex<V3?>(nil)

    /// `/openapi/v3` (nil path) or one group version's document (`api/v1`); nil if there is none.
    func v3(_ table: ResourceTable, path: String?) -> APIResponse? {
        let bytes = v3.withLock { cache -> [UInt8]? in
            if cache?.revision != table.revision {
                var documents: [String: [UInt8]] = [:]
                var paths: [String: JSON] = [:]
                for groupVersion in OpenAPIDocuments.groupVersions(table) {
                    guard let document = OpenAPIDocuments.v3(table, path: groupVersion) else { continue }
                    let encoded = JSONCoding.encode(document)
                    documents[groupVersion] = encoded
                    paths[groupVersion] = ["serverRelativeURL": .string("/openapi/v3/\(groupVersion)?hash=\(OpenAPIDocuments.hash(encoded))")]
                }
                cache = V3(revision: table.revision, root: JSONCoding.encode(["paths": .object(paths)] as JSON), documents: documents)
            }
            guard let path else { return cache?.root }
            return cache?.documents[path]
        }
        return bytes.map { APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes($0)) }
    }

    func v2(_ table: ResourceTable, protobuf: Bool) -> APIResponse {
        let cached = entry.withLock { entry -> Entry in
            if let entry, entry.revision == table.revision { return entry }
            let document = OpenAPIDocuments.v2(table)
            let fresh = Entry(revision: table.revision, json: JSONCoding.encode(document), protobuf: OpenAPIv2Protobuf.encode(document))
            entry = fresh
            return fresh
        }
        return protobuf
            ? APIResponse(status: 200, headers: [("Content-Type", "application/octet-stream")], body: .bytes(cached.protobuf))
            : APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes(cached.json))
    }
}
