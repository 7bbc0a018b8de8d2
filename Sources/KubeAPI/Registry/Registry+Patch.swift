import KubeModel

extension Registry {
    public enum PatchType: String, Sendable {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        case strategic = "application/strategic-merge-patch+json"
    }

    /// A document with a patch of the given type applied.
    static func applying(_ patch: JSON, type: PatchType, to document: JSON) throws(APIError) -> JSON {
        switch type {
        case .json: try JSONPatch.apply(patch, to: document)
        case .merge: MergePatch.apply(patch, to: document)
        case .strategic: try StrategicMergePatch.apply(patch, to: document)
        }
    }

    /// Patches an object (PATCH): applies the patch to the current object, then updates as PUT would.
    public func patch(_ resource: ResourceType, namespace: String?, name: String, type: PatchType, patch: JSON,
                      target: UpdateTarget = .main, dryRun: Bool = false, fieldValidation: FieldValidation = .warn,
                      fieldManager: String? = nil) async throws -> JSON {
        try await guaranteedUpdate(resource, namespace: namespace, name: name, expectedRevision: nil, dryRun: dryRun) { current in
            var patched = try Self.applying(patch, type: type, to: current)
            if fieldValidation == .strict {
                let unknown = resource.strategy.unknownFields(patched)
                if !unknown.isEmpty {
                    throw APIError.badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
                }
            }
            // A resourceVersion in the patch is a precondition.
            if let version = patched.resourceVersion, version != current.resourceVersion {
                throw APIError.conflict(resource.resource, group: resource.group, name: name)
            }
            if patched.name != name {
                throw APIError.badRequest("metadata.name: Invalid value: \"\(patched.name)\": field is immutable")
            }
            return try self.merge(update: &patched, over: current, resource: resource, target: target, fieldManager: fieldManager)
        }
    }
}
