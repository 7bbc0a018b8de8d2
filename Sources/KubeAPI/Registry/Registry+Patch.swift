extension Registry {
    public enum PatchType: String, Sendable {
        case json = "application/json-patch+json"
        case merge = "application/merge-patch+json"
        case strategic = "application/strategic-merge-patch+json"
    }

    /// Patches an object (PATCH): applies the patch to the current object, then updates as PUT would.
    public func patch(_ resource: ResourceType, namespace: String?, name: String, type: PatchType, patch: JSON,
                      target: UpdateTarget = .main, dryRun: Bool = false, fieldValidation: FieldValidation = .warn,
                      fieldManager: String? = nil) async throws -> JSON {
        try await guaranteedUpdate(resource, namespace: namespace, name: name, expectedRevision: nil, dryRun: dryRun) { current in
            var patched: JSON
            switch type {
            case .json: patched = try JSONPatch.apply(patch, to: current)
            case .merge: patched = MergePatch.apply(patch, to: current)
            case .strategic: patched = try StrategicMergePatch.apply(patch, to: current)
            }
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
