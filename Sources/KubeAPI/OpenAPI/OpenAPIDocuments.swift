import Crypto
import Foundation
import KubeModel

/// `/openapi/v2` and `/openapi/v3`: the paths of every served resource, each
/// operation marked with its group-version-kind and the query parameters it
/// takes (kubectl checks `fieldValidation` there before asking the server to
/// validate), and the schemas of the types.
enum OpenAPIDocuments {
    static let writeParameters: [JSON] = ["dryRun", "fieldManager", "fieldValidation"].map {
        ["name": .string($0), "in": "query", "schema": ["type": "string"], "type": "string", "uniqueItems": true]
    }

    static func paths(for resources: [ResourceType], v3: Bool) -> [String: JSON] {
        var paths: [String: JSON] = [:]
        for resource in resources {
            let root = resource.group.isEmpty ? "/api/\(resource.version)" : "/apis/\(resource.group)/\(resource.version)"
            let scope = resource.namespaced ? "/namespaces/{namespace}" : ""
            let gvk: JSON = ["group": .string(resource.group), "version": .string(resource.version), "kind": .string(resource.kind)]
            let ref = OpenAPISchemas.definitionName(of: resource)
            let body: JSON = v3
                ? ["content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(ref)")]]], "required": true]
                : ["name": "body", "in": "body", "required": true, "schema": ["$ref": .string("#/definitions/\(ref)")]]
            func operation(_ id: String, _ action: String, write: Bool) -> JSON {
                var op: JSON = ["operationId": .string(id + resource.kind), "x-kubernetes-action": .string(action),
                                "x-kubernetes-group-version-kind": gvk, "responses": ["200": ["description": "OK"]]]
                var parameters = write ? writeParameters : []
                if write && v3 && action != "patch" { op["requestBody"] = body } else if write && !v3 { parameters.append(body) }
                op["parameters"] = .array(parameters)
                return op
            }
            guard resource.isStored else {
                // A review: created, answered, never stored.
                paths["\(root)\(scope)/\(resource.resource)"] = ["post": operation("create", "post", write: true)]
                continue
            }
            paths["\(root)\(scope)/\(resource.resource)"] = [
                "get": operation("list", "list", write: false), "post": operation("create", "post", write: true),
                "delete": operation("deleteCollection", "deletecollection", write: false),
            ]
            paths["\(root)\(scope)/\(resource.resource)/{name}"] = [
                "get": operation("read", "get", write: false), "put": operation("replace", "put", write: true),
                "patch": operation("patch", "patch", write: true), "delete": operation("delete", "delete", write: false),
            ]
            for subresource in resource.subresources where ["status", "scale"].contains(subresource) {
                paths["\(root)\(scope)/\(resource.resource)/{name}/\(subresource)"] = [
                    "get": operation("read\(subresource.capitalized)", "get", write: false),
                    "put": operation("replace\(subresource.capitalized)", "put", write: true),
                    "patch": operation("patch\(subresource.capitalized)", "patch", write: true),
                ]
            }
        }
        return paths
    }

    static func v2(_ table: ResourceTable) -> JSON {
        ["swagger": "2.0", "info": ["title": "Kubernetes", "version": "v1.34.1"],
         "paths": .object(paths(for: table.all, v3: false)),
         "definitions": .object(OpenAPISchemas.schemas(table: table, v2: true) { ["$ref": .string("#/definitions/\($0)")] })]
    }

    static func groupVersions(_ table: ResourceTable) -> [String] {
        var seen: [String] = []
        for resource in table.all {
            let path = resource.group.isEmpty ? "api/\(resource.version)" : "apis/\(resource.group)/\(resource.version)"
            if !seen.contains(path) { seen.append(path) }
        }
        return seen
    }

    /// The document of one group version (`api/v1`, `apis/apps/v1`), or nil if none is served there.
    static func v3(_ table: ResourceTable, path: String) -> JSON? {
        let resources = table.all.filter { ($0.group.isEmpty ? "api/\($0.version)" : "apis/\($0.group)/\($0.version)") == path }
        guard !resources.isEmpty else { return nil }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.34.1"],
                "paths": .object(paths(for: resources, v3: true)),
                "components": ["schemas": .object(OpenAPISchemas.schemas(table: table) { ["allOf": [["$ref": .string("#/components/schemas/\($0)")]]] })]]
    }

    static func hash(_ encoded: [UInt8]) -> String {
        let digest = SHA512.hash(data: encoded)
        return digest.prefix(64).map { String(format: "%02X", $0) }.joined()
    }
}
