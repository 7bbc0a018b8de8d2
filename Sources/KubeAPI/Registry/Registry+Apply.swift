import KubeStore
import KubeModel

extension Registry {
    /// Server-side apply: the applied configuration is `manager`'s whole intent. Fields other managers
    /// set to other values are conflicts (unless `force` takes them over); fields `manager` applied
    /// before and no longer applies are removed, if nobody else manages them.
    public func apply(_ resource: ResourceType, namespace: String?, name: String, applied: JSON, manager: String, force: Bool,
                      target: UpdateTarget = .main, dryRun: Bool = false, fieldValidation: FieldValidation = .strict) async throws -> JSON {
        guard applied["apiVersion"]?.string == resource.groupVersion, applied["kind"]?.string == resource.kind else {
            throw APIError.badRequest("error decoding patch: apiVersion and kind must be \(resource.groupVersion) and \(resource.kind)")
        }
        guard applied.name.isEmpty || applied.name == name else {
            throw APIError.badRequest("the name of the object (\(applied.name)) does not match the name on the URL (\(name))")
        }
        if fieldValidation == .strict {
            let unknown = resource.strategy.unknownFields(applied)
            if !unknown.isEmpty {
                throw APIError.badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
            }
        }
        var cleaned = applied
        cleaned.name = name
        for field in ["managedFields", "resourceVersion", "uid", "creationTimestamp"] { cleaned[path: ["metadata", field]] = nil }
        let intent = cleaned
        let includeStatus = target == .status || !resource.strategy.hasStatus
        let appliedFields = FieldSets.fields(of: intent, includeStatus: includeStatus)
        let subresource = target.subresource
        let key = resource.key(namespace: namespace, name: name)

        if try await store.get(key) == nil {
            var object = intent
            ManagedFieldsEntry.store([ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: resource.groupVersion,
                                                         subresource: subresource, fields: appliedFields)], in: &object)
            do {
                return try await create(resource, namespace: namespace, body: object, dryRun: dryRun, fieldManager: nil)
            } catch let error as APIError where error.reason == "AlreadyExists" {
                // Created meanwhile: apply to it as to any existing object.
            }
        }
        return try await guaranteedUpdate(resource, namespace: namespace, name: name, expectedRevision: nil, dryRun: dryRun) { current in
            var entries = ManagedFieldsEntry.all(current)
            let isMine = { (entry: ManagedFieldsEntry) in entry.manager == manager && entry.operation == "Apply" && entry.subresource == subresource }
            var conflicts: [Conflict] = []
            for (index, entry) in entries.enumerated() where !isMine(entry) {
                let clashing = entry.fields.intersection(appliedFields).filter {
                    $0.last != .itself && FieldSets.value(at: $0, in: intent) != FieldSets.value(at: $0, in: current)
                }
                guard !clashing.isEmpty else { continue }
                if force {
                    entries[index].fields.subtract(clashing)
                } else {
                    conflicts.append(Conflict(manager: entry.manager, subresource: entry.subresource, apiVersion: entry.apiVersion,
                                              paths: clashing.sorted { Self.renderer($0) < Self.renderer($1) }))
                }
            }
            if !conflicts.isEmpty { throw Self.applyConflict(conflicts, resource: resource, name: name) }

            let previous = entries.first(where: isMine)?.fields ?? []
            let ownedByOthers = entries.filter { !isMine($0) }.reduce(into: Set<FieldPath>()) { $0.formUnion($1.fields) }
            var merged = FieldSets.merge(intent, into: current)
            // Whole list items first (their merge keys find them), then fields, deepest first.
            let dropped = previous.subtracting(appliedFields).subtracting(ownedByOthers)
            for path in dropped.sorted(by: { ($0.last == .itself ? 0 : 1, -$0.count) < ($1.last == .itself ? 0 : 1, -$1.count) }) {
                merged = FieldSets.removing(path, from: merged)
            }
            if let index = entries.firstIndex(where: isMine) {
                entries[index].fields = appliedFields
                entries[index].time = Timestamps.format(.now)
            } else {
                entries.append(ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: resource.groupVersion,
                                                  subresource: subresource, fields: appliedFields))
            }
            ManagedFieldsEntry.store(entries, in: &merged)
            return try self.merge(update: &merged, over: current, resource: resource, target: target, fieldManager: nil)
        }
    }

    /// Fields another manager set to other values than an apply asks for.
    struct Conflict {
        let manager: String
        let subresource: String?
        let apiVersion: String
        let paths: [FieldPath]

        /// `"kubectl-scale" with subresource "scale" using apps/v1`, as the API server names a manager.
        var owner: String {
            "\"\(manager)\"" + (subresource.map { " with subresource \"\($0)\"" } ?? "") + " using \(apiVersion)"
        }
    }

    static func applyConflict(_ conflicts: [Conflict], resource: ResourceType, name: String) -> APIError {
        let registry = Registry.renderer
        let total = conflicts.reduce(0) { $0 + $1.paths.count }
        let parts = conflicts.map { conflict -> String in
            conflict.paths.count == 1
                ? "conflict with \(conflict.owner): \(registry(conflict.paths[0]))"
                : "conflicts with \(conflict.owner):\n" + conflict.paths.map { "- \(registry($0))" }.joined(separator: "\n")
        }
        let causes: [JSON] = conflicts.flatMap { conflict in
            conflict.paths.map { ["reason": "FieldManagerConflict", "message": .string("conflict with \(conflict.owner)"),
                                  "field": .string(registry($0))] }
        }
        var details = APIError.details(name: name, resource: resource.resource, group: resource.group)
        details["causes"] = .array(causes)
        return APIError(code: 409, reason: "Conflict",
                        message: "Apply failed with \(total) conflict\(total == 1 ? "" : "s"): " + parts.joined(separator: "\n"),
                        details: details)
    }

    /// `.spec.containers[name="web"].image`, as the API server names fields in conflicts.
    static let renderer: @Sendable (FieldPath) -> String = { path in
        path.map { element -> String in
            switch element {
            case .field(let name): ".\(name)"
            case .key(let keys): "[" + (keys.object ?? [:]).sorted { $0.key < $1.key }
                .map { "\($0.key)=\(String(decoding: JSONCoding.encode($0.value), as: UTF8.self))" }.joined(separator: ",") + "]"
            case .value(let value): "[=\(String(decoding: JSONCoding.encode(value), as: UTF8.self))]"
            case .itself: ""
            }
        }.joined()
    }

    /// Gives `manager` (an Update operation) the fields a write changed, taking them from other managers.
    /// Entries are edited as stored, as FieldsV1 trees.
    static func recordUpdate(_ object: inout JSON, from current: JSON?, manager: String, resource: ResourceType, target: UpdateTarget) {
        let includeStatus = target == .status || !resource.strategy.hasStatus
        let changed = FieldSets.tree(of: object, against: current.map { .object($0) } ?? .none, includeStatus: includeStatus)
        let hasChanges = !FieldSets.isLeaf(changed)
        let subresource = target.subresource
        var entries: [JSON] = []
        var own: Int?
        for var entry in current?[path: ["metadata", "managedFields"]]?.array ?? [] {
            guard let entryManager = entry["manager"]?.string, let operation = entry["operation"]?.string else { continue }
            if hasChanges, var tree = entry["fieldsV1"] {
                entry["fieldsV1"] = nil
                FieldSets.subtract(changed, from: &tree)
                entry["fieldsV1"] = tree
            }
            if hasChanges, entryManager == manager, operation == "Update", entry["subresource"]?.string == subresource {
                own = entries.count
            } else if entry["fieldsV1"].map(FieldSets.isLeaf) ?? true {
                continue
            }
            entries.append(entry)
        }
        if let own {
            var tree = entries[own]["fieldsV1"] ?? [:]
            entries[own]["fieldsV1"] = nil
            FieldSets.union(changed, into: &tree)
            entries[own]["fieldsV1"] = tree
            entries[own]["time"] = .string(Timestamps.format(.now))
        } else if hasChanges {
            entries.append(ManagedFieldsEntry.json(manager: manager, operation: "Update", apiVersion: resource.groupVersion,
                                                   subresource: subresource, time: Timestamps.format(.now), fieldsV1: changed))
        }
        object[path: ["metadata", "managedFields"]] = entries.isEmpty ? nil : .array(entries)
    }
}
