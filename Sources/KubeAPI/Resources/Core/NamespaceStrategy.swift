import Foundation
import KubeModel

struct NamespaceStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        // Every namespace carries its own name as a label, for namespace selectors.
        object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(object.name)
        setIfAbsent(&object, "spec", [:])
        object[path: ["spec", "finalizers"]] = object[path: ["spec", "finalizers"]] ?? ["kubernetes"]
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Active"]
    }

    /// The namespaces every cluster needs, which may never be deleted.
    static let protected = ["default", "kube-system", "kube-public"]

    func beginDelete(_ object: JSON, context: WriteContext) async throws {
        if Self.protected.contains(object.name) {
            throw APIError.forbidden("namespaces \"\(object.name)\" is forbidden: this namespace may not be deleted",
                                     resource: "namespaces", name: object.name)
        }
    }

    /// A namespace goes once its contents are gone: the namespace controller then clears `spec.finalizers`.
    func pendingFinalizers(_ object: JSON) -> [String] {
        object.finalizers + (object[path: ["spec", "finalizers"]]?.array ?? []).compactMap(\.string)
    }

    func prepareForDeletion(_ object: inout JSON) {
        object[path: ["status", "phase"]] = "Terminating"
    }

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        name == "finalize" ? NamespaceFinalize() : nil
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["status.phase": object[path: ["status", "phase"]]?.string ?? ""]
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Status", description: "The status of the namespace"), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        [.string(object.name), .string(object[path: ["status", "phase"]]?.string ?? "Active"),
         .string(Age.since(object.creationTimestamp, now: now))]
    }
}

/// `PUT namespaces/NAME/finalize`: changes `spec.finalizers` alone, as the namespace controller does once
/// the namespace is empty; a Terminating namespace with no finalizers left is then deleted.
struct NamespaceFinalize: SubresourceHandler {
    func handle(_ request: SubresourceRequest) async throws -> APIResponse {
        guard request.request.method == "PUT" else {
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
        let body = try APIServer.decodeBody(request.request)
        if !body.name.isEmpty, body.name != request.name {
            throw APIError.badRequest("the name of the object (\(body.name)) does not match the name on the URL (\(request.name))")
        }
        let expected = try Registry.revision(body.resourceVersion)
        let finalizers = body[path: ["spec", "finalizers"]]
        let result = try await request.registry.guaranteedUpdate(request.resource, namespace: nil, name: request.name,
                                                                 expectedRevision: expected, dryRun: request.dryRun) { current in
            var updated = current
            updated[path: ["spec", "finalizers"]] = finalizers
            return updated
        }
        return .json(result)
    }
}
