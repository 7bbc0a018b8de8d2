import Foundation
import KubeModel

/// CustomResourceDefinitions: checked, defaulted, and reported `Established`
/// at once (Skiff serves a new kind as soon as its definition is stored).
struct CustomResourceDefinitionStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        var names = object[path: ["spec", "names"]] ?? [:]
        if let kind = names["kind"]?.string {
            setIfAbsent(&names, "singular", .string(kind.lowercased()))
            setIfAbsent(&names, "listKind", .string(kind + "List"))
        }
        object[path: ["spec", "names"]] = names
        setIfAbsent(&object, "spec", [:])
        object[path: ["spec", "conversion"]] = object[path: ["spec", "conversion"]] ?? ["strategy": "None"]
    }

    func prepareForCreate(_ object: inout JSON) {
        let now = JSON.string(Timestamps.format(Date()))
        let storage = (object[path: ["spec", "versions"]]?.array ?? []).first { $0["storage"]?.bool == true }?["name"]
        object["status"] = [
            "conditions": [
                ["type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now],
                ["type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                 "message": "the initial names have been accepted", "lastTransitionTime": now],
            ],
            "acceptedNames": object[path: ["spec", "names"]] ?? [:],
            "storedVersions": storage.map { [$0] } ?? [],
        ]
    }

    /// A new storage version joins `status.storedVersions`: objects may now be stored at either.
    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        guard let storage = (object[path: ["spec", "versions"]]?.array ?? []).first(where: { $0["storage"]?.bool == true })?["name"],
              var stored = object[path: ["status", "storedVersions"]]?.array, !stored.contains(storage) else { return }
        stored.append(storage)
        object[path: ["status", "storedVersions"]] = .array(stored)
    }

    // The served kinds follow the stored definitions.
    func beginCreate(_ object: inout JSON, context: WriteContext) async throws -> FinishWrite? {
        Self.syncWhenStored(context)
    }

    func beginUpdate(_ object: inout JSON, old: JSON, context: WriteContext) async throws -> FinishWrite? {
        Self.syncWhenStored(context)
    }

    /// Deleting a definition deletes its custom resources first, as the API server's cleanup finalizer does.
    func beginDelete(_ object: JSON, context: WriteContext) async throws {
        if !context.dryRun, object.finalizers.isEmpty { try await context.registry.deleteCustomResources(of: object) }
    }

    func afterDelete(_ object: JSON, context: WriteContext) async {
        try? await context.registry.deleteCustomResources(of: object)
        try? await context.registry.syncCustomResources()
    }

    static func syncWhenStored(_ context: WriteContext) -> FinishWrite {
        let registry = context.registry
        return { succeeded in
            if succeeded { try? await registry.syncCustomResources() }
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = object["spec"] ?? [:]
        let group = spec["group"]?.string ?? ""
        let plural = spec[path: ["names", "plural"]]?.string ?? ""
        if group.isEmpty { errors.append(.required("spec.group")) }
        else if !Names.isDNSSubdomain(group) || !group.contains(".") {
            errors.append(.invalid("spec.group", .string(group), "should be a domain with at least one dot"))
        }
        if plural.isEmpty { errors.append(.required("spec.names.plural")) }
        if (spec[path: ["names", "kind"]]?.string ?? "").isEmpty { errors.append(.required("spec.names.kind")) }
        if !group.isEmpty, !plural.isEmpty, object.name != "\(plural).\(group)" {
            errors.append(.invalid("metadata.name", .string(object.name), "must be spec.names.plural+\".\"+spec.group"))
        }
        let scope = spec["scope"]?.string ?? ""
        if !["Namespaced", "Cluster"].contains(scope) { errors.append(.notSupported("spec.scope", .string(scope), ["Cluster", "Namespaced"])) }
        let versions = spec["versions"]?.array ?? []
        if versions.isEmpty { errors.append(.required("spec.versions", "must have exactly one version marked as storage version")) }
        if versions.filter({ $0["storage"]?.bool == true }).count != 1 {
            errors.append(.invalid("spec.versions", spec["versions"] ?? .null, "must have exactly one version marked as storage version"))
        }
        for (index, version) in versions.enumerated() {
            let path = "spec.versions[\(index)].schema.openAPIV3Schema"
            guard let schema = version[path: ["schema", "openAPIV3Schema"]] else {
                errors.append(.required(path, "schemas are required"))
                continue
            }
            if schema["type"]?.string != "object" {
                errors.append(.invalid("\(path).type", schema["type"] ?? .null, "must be object at the root"))
            } else if let problem = StructuralSchema.structuralProblem(schema, path: path) {
                errors.append(.invalid(path, "<schema>", problem))
            }
        }
        return errors
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Created At", type: "date", description: "CreationTimestamp is a timestamp representing the server time when this object was created.")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        [.string(object.name), .string(object[path: ["metadata", "creationTimestamp"]]?.string ?? "")]
    }

    /// The resources one stored definition serves: one per served version.
    static func resourceTypes(_ definition: JSON) -> [ResourceType] {
        let spec = definition["spec"] ?? [:]
        guard let group = spec["group"]?.string, let plural = spec[path: ["names", "plural"]]?.string,
              let kind = spec[path: ["names", "kind"]]?.string, definition.deletionTimestamp == nil else { return [] }
        let names = spec["names"] ?? [:]
        let storage = (spec["versions"]?.array ?? []).first { $0["storage"]?.bool == true }?["name"]?.string.map { "\(group)/\($0)" }
        return (spec["versions"]?.array ?? []).filter { $0["served"]?.bool != false }.compactMap { version in
            guard let name = version["name"]?.string else { return nil }
            let subresources = version["subresources"] ?? [:]
            return ResourceType(
                group: group, version: name, resource: plural, kind: kind, namespaced: spec["scope"]?.string != "Cluster",
                shortNames: (names["shortNames"]?.array ?? []).compactMap(\.string),
                categories: (names["categories"]?.array ?? []).compactMap(\.string),
                subresources: ["status", "scale"].filter { subresources[$0] != nil },
                strategy: CustomResourceStrategy(schema: StructuralSchema(schema: version[path: ["schema", "openAPIV3Schema"]] ?? ["type": "object"]),
                                                 hasStatus: subresources["status"] != nil, storageVersion: storage,
                                                 scale: subresources["scale"].map(ScalePaths.init),
                                                 printerColumns: version["additionalPrinterColumns"]?.array ?? []))
        }
    }
}

/// Custom resources: their definition's schema checks, prunes and defaults them.
struct CustomResourceStrategy: ResourceStrategy {
    let schema: StructuralSchema
    let hasStatus: Bool
    /// `group/version` of the definition's storage version.
    let storageVersion: String?
    /// Where the `scale` subresource finds replicas and the selector, if the definition has one.
    let scale: ScalePaths?
    let printerColumns: [JSON]

    func applyDefaults(_ object: inout JSON) {
        var findings = StructuralSchema.Findings()
        schema.apply(to: &object, findings: &findings)
    }

    func validate(_ object: JSON) -> [FieldError] {
        var findings = StructuralSchema.Findings()
        var copy = object
        schema.apply(to: &copy, findings: &findings)
        return findings.errors
    }

    func unknownFields(_ object: JSON) -> [String] {
        var findings = StructuralSchema.Findings()
        var copy = object
        schema.apply(to: &copy, findings: &findings)
        return findings.unknownFields
    }

    var columns: [TableColumn] {
        var columns = [TableColumn.name]
        for column in printerColumns {
            let type = column["type"]?.string ?? "string"
            columns.append(TableColumn(column["name"]?.string ?? "", type: type == "date" ? "string" : type,
                                       format: column["format"]?.string ?? "", priority: Int(column["priority"]?.int ?? 0),
                                       description: column["description"]?.string ?? ""))
        }
        if !columns.contains(where: { $0.name == "Age" }) { columns.append(.age) }
        return columns
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        var cells: [JSON] = [.string(object.name)]
        for column in printerColumns {
            let value = JSONPathColumn.evaluate(column["jsonPath"]?.string ?? "", in: object)
            if column["type"]?.string == "date" {
                cells.append(.string(value?.string.flatMap(Timestamps.parse).map { Age.since($0, now: now) } ?? "<unknown>"))
            } else {
                cells.append(value ?? .null)
            }
        }
        if !printerColumns.contains(where: { $0["name"]?.string == "Age" }) {
            cells.append(.string(Age.since(object.creationTimestamp, now: now)))
        }
        return cells
    }

    /// The OpenAPI schema of the kind, with the object metadata every kind has.
    var openAPISchema: JSON {
        var definition = schema.schema
        var properties = definition["properties"]?.object ?? [:]
        properties["apiVersion"] = properties["apiVersion"] ?? ["type": "string"]
        properties["kind"] = properties["kind"] ?? ["type": "string"]
        definition["properties"] = .object(properties)
        return definition
    }
}

/// A custom resource's `subresources.scale`: JSON paths (`.spec.replicas`) to its replica counts and selector.
struct ScalePaths: Sendable {
    let specReplicas: [String]
    let statusReplicas: [String]
    let labelSelector: [String]?

    init(_ definition: JSON) {
        func path(_ text: String?) -> [String]? {
            text.map { $0.split(separator: ".").map(String.init) }
        }
        specReplicas = path(definition["specReplicasPath"]?.string) ?? ["spec", "replicas"]
        statusReplicas = path(definition["statusReplicasPath"]?.string) ?? ["status", "replicas"]
        labelSelector = path(definition["labelSelectorPath"]?.string)
    }

    /// The built-in workloads' paths.
    static let workloads = ScalePaths(["specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"])
}
