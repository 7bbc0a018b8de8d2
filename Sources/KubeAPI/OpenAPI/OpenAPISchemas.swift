import KubeModel

/// OpenAPI schemas of the built-in types, derived from the protobuf schema
/// table: every field with its type, the group-version-kind of each top-level
/// kind, and the strategic-merge keys kubectl uses for client-side apply.
enum OpenAPISchemas {
    /// `k8s.io.api.core.v1.Pod` → `io.k8s.api.core.v1.Pod`, the names the real API server uses.
    static func definitionName(_ message: String) -> String {
        let parts = message.split(separator: ".").map(String.init)
        guard parts.count > 2 else { return message }
        return ([parts[1], parts[0]] + parts[2...]).joined(separator: ".")
    }

    /// The schemas of every message, keyed by definition name; `reference` writes a `$ref`.
    static func schemas(table: ResourceTable, v2: Bool = false, reference: (String) -> JSON) -> [String: JSON] {
        let schema = ProtobufSchema.shared
        var kinds: [String: [JSON]] = [:]
        for resource in table.all {
            guard let message = schema.message(apiVersion: resource.groupVersion, kind: resource.kind) else { continue }
            kinds[message, default: []].append(["group": .string(resource.group), "version": .string(resource.version),
                                                "kind": .string(resource.kind)])
        }
        var result: [String: JSON] = [:]
        for (message, fields) in schema.messages {
            if let special = v2 ? specialSchemaV2(message) : specialSchema(message) {
                result[definitionName(message)] = special
                continue
            }
            var properties: [String: JSON] = [:]
            collect(fields, into: &properties, schema: schema, reference: reference)
            if kinds[message] != nil || message.hasSuffix("List") && fields.values.contains(where: { $0.name == "items" }) {
                // Go inlines TypeMeta into every kind and list; the wire schema has no field for it.
                properties["apiVersion"] = ["type": "string"]
                properties["kind"] = ["type": "string"]
            }
            var definition: JSON = ["type": "object", "properties": .object(properties)]
            if let gvks = kinds[message] { definition["x-kubernetes-group-version-kind"] = .array(gvks) }
            result[definitionName(message)] = definition
        }
        for resource in table.all {
            guard let strategy = resource.strategy as? CustomResourceStrategy else { continue }
            var definition = strategy.openAPISchema
            definition[path: ["properties", "metadata"]] = reference(definitionName("k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta"))
            definition["x-kubernetes-group-version-kind"] = [["group": .string(resource.group), "version": .string(resource.version),
                                                              "kind": .string(resource.kind)]]
            result[customDefinitionName(resource)] = definition
        }
        return result
    }

    /// `example.com` `v1` `Widget` → `com.example.v1.Widget`, as the API server names custom resource schemas.
    static func customDefinitionName(_ resource: ResourceType) -> String {
        (resource.group.split(separator: ".").reversed().map(String.init) + [resource.version, resource.kind]).joined(separator: ".")
    }

    /// The definition name of any served kind.
    static func definitionName(of resource: ResourceType) -> String {
        if resource.isCustom { return customDefinitionName(resource) }
        return ProtobufSchema.shared.message(apiVersion: resource.groupVersion, kind: resource.kind).map(definitionName) ?? resource.kind
    }

    static func collect(_ fields: [Int: ProtobufSchema.Field], into properties: inout [String: JSON], schema: ProtobufSchema,
                        reference: (String) -> JSON) {
        for field in fields.values {
            if field.inline, let inlined = schema.messages[field.type] {
                collect(inlined, into: &properties, schema: schema, reference: reference)
                continue
            }
            let item = typeSchema(field.type, reference: reference)
            switch field.cardinality {
            case .optional:
                properties[field.name] = item
            case .map:
                properties[field.name] = ["type": "object", "additionalProperties": item]
            case .repeated:
                var list: JSON = ["type": "array", "items": item]
                if let key = StrategicMergePatch.mergeKeys[field.name] ?? (field.name == "ports" ? (field.type.hasSuffix("ContainerPort") ? "containerPort" : "port") : nil) {
                    list["x-kubernetes-patch-merge-key"] = .string(key)
                    list["x-kubernetes-patch-strategy"] = "merge"
                    list["x-kubernetes-list-type"] = "map"
                    list["x-kubernetes-list-map-keys"] = [.string(key)]
                } else if StrategicMergePatch.mergedPrimitiveLists.contains(field.name) {
                    list["x-kubernetes-patch-strategy"] = "merge"
                    list["x-kubernetes-list-type"] = "set"
                }
                properties[field.name] = list
            }
        }
    }

    static func typeSchema(_ type: String, reference: (String) -> JSON) -> JSON {
        switch type {
        case "string": ["type": "string"]
        case "bytes": ["type": "string", "format": "byte"]
        case "bool": ["type": "boolean"]
        case "int32", "uint32", "sint32", "fixed32": ["type": "integer", "format": "int32"]
        case "int64", "uint64", "sint64", "fixed64": ["type": "integer", "format": "int64"]
        case "double", "float": ["type": "number", "format": "double"]
        // A message with no fields has no rows in the table, so no definition either.
        case _ where ProtobufSchema.shared.messages[type] == nil && specialSchema(type) == nil: ["type": "object"]
        default: reference(definitionName(type))
        }
    }

    /// Swagger 2 has no `anyOf`: int-or-string is a string with that format, as kube-openapi writes it.
    static func specialSchemaV2(_ message: String) -> JSON? {
        switch message {
        case "k8s.io.apimachinery.pkg.api.resource.Quantity": ["type": "string"]
        case "k8s.io.apimachinery.pkg.util.intstr.IntOrString": ["type": "string", "format": "int-or-string"]
        default: specialSchema(message)
        }
    }

    static func specialSchema(_ message: String) -> JSON? {
        switch message {
        case "k8s.io.apimachinery.pkg.api.resource.Quantity", "k8s.io.apimachinery.pkg.util.intstr.IntOrString":
            ["anyOf": [["type": "integer"], ["type": "string"]], "x-kubernetes-int-or-string": true]
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Time", "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
            ["type": "string", "format": "date-time"]
        case "k8s.io.apimachinery.pkg.apis.meta.v1.Duration":
            ["type": "string"]
        case "k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1":
            ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        default:
            nil
        }
    }
}
