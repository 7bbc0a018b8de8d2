import KubeModel

/// The `scale` subresource: an autoscaling/v1 `Scale` view of a workload's replicas.
enum ScaleSubresource {
    static func paths(_ resource: ResourceType) -> ScalePaths {
        (resource.strategy as? CustomResourceStrategy)?.scale ?? .workloads
    }

    static func scale(of object: JSON, resource: ResourceType) -> JSON {
        let paths = paths(resource)
        let selector: String
        if resource.isCustom {
            // A custom resource keeps its selector serialized, where labelSelectorPath points.
            selector = paths.labelSelector.flatMap { object[path: $0]?.string } ?? ""
        } else {
            selector = (try? LabelSelector(object: object[path: ["spec", "selector"]] ?? [:]))?.requirements.compactMap { requirement -> String? in
                if case .equals(let key, let value) = requirement { return "\(key)=\(value)" }
                return nil
            }.joined(separator: ",") ?? ""
        }
        return ["kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": ["name": .string(object.name), "namespace": object["metadata"]?["namespace"] ?? .null,
                             "uid": object["metadata"]?["uid"] ?? .null, "resourceVersion": object["metadata"]?["resourceVersion"] ?? .null,
                             "creationTimestamp": object["metadata"]?["creationTimestamp"] ?? .null],
                "spec": ["replicas": .int(object[path: paths.specReplicas]?.int ?? 0)],
                "status": ["replicas": .int(object[path: paths.statusReplicas]?.int ?? 0), "selector": .string(selector)]]
    }

    static func handle(_ request: APIRequest, resource: ResourceType, namespace: String?, name: String, registry: Registry,
                       dryRun: Bool, manager: String) async throws -> APIResponse {
        switch request.method {
        case "GET":
            return .json(scale(of: try await registry.get(resource, namespace: namespace, name: name), resource: resource))
        case "PUT", "PATCH":
            let body = try APIServer.decodeBody(request, allowArray: request.method == "PATCH")
            let current = scale(of: try await registry.get(resource, namespace: namespace, name: name), resource: resource)
            var desired = body
            if request.method == "PATCH" {
                guard let type = Registry.PatchType(rawValue: request.contentType) else {
                    throw APIError.unsupportedMediaType(request.contentType)
                }
                desired = try Registry.applying(body, type: type, to: current)
            }
            guard let replicas = desired[path: ["spec", "replicas"]]?.int, replicas >= 0 else {
                throw APIError.invalid(kind: "Scale", group: "autoscaling", name: name,
                                       causes: [.invalid("spec.replicas", desired[path: ["spec", "replicas"]] ?? .null, "must be greater than or equal to 0")])
            }
            let expected = desired.resourceVersion.flatMap { $0.isEmpty ? nil : $0 }
            let updated = try await registry.guaranteedUpdate(resource, namespace: namespace, name: name,
                                                              expectedRevision: try Registry.revision(expected), dryRun: dryRun) { current in
                var object = current
                object[path: paths(resource).specReplicas] = .int(replicas)
                return try registry.merge(update: &object, over: current, resource: resource, target: .scale, fieldManager: manager)
            }
            return .json(scale(of: updated, resource: resource))
        default:
            throw APIError.methodNotAllowed("the server does not allow this method on the requested resource")
        }
    }
}
