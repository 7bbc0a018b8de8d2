import Foundation
import KubeModel

/// A watch on the wire: one JSON event per line, `{"type":"ADDED","object":{…}}`, as a chunked stream.
enum WatchEncoding {
    static func response(_ events: Registry.EventStream, resource: ResourceType, asTable: Bool, options: ListOptions) -> APIResponse {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let task = Task {
            let deadline = options.timeoutSeconds.map { ContinuousClock.now + .seconds($0) }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await event in events {
                            continuation.yield(encode(event, resource: resource, asTable: asTable))
                        }
                    } catch {}
                    continuation.finish()
                }
                if let deadline {
                    group.addTask {
                        try? await Task.sleep(until: deadline, clock: .continuous)
                        continuation.finish()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return APIResponse(status: 200, headers: [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")],
                           body: .stream(stream))
    }

    /// `{"type":"ADDED","object":{…}}` and a newline, the object's encoding spliced in as it comes.
    static func encode(_ event: ObjectEvent, resource: ResourceType, asTable: Bool) -> [UInt8] {
        let object: [UInt8]
        if asTable, event.type != .bookmark, event.type != .error {
            let decoded = event.object
            object = JSONCoding.encode(Tables.table([decoded], resource: resource, resourceVersion: decoded.resourceVersion ?? "",
                                                    continueToken: nil))
        } else {
            object = event.encodedObject
        }
        var line: [UInt8] = []
        line.reserveCapacity(object.count + 40)
        line += Array("{\"type\":\"\(event.type.rawValue)\",\"object\":".utf8)
        line += object
        line += Array("}\n".utf8)
        return line
    }
}
