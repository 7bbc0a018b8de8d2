import Synchronization

/// The encoded `/openapi/v2` documents (megabytes), built once per version of the resource table.
final class OpenAPICache: Sendable {
    private struct Entry {
        let revision: Int
        let json: [UInt8]
        let protobuf: [UInt8]
    }

    private let entry = Mutex<Entry?>(nil)

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
