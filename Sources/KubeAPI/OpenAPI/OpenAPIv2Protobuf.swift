import KubeModel

/// The OpenAPI v2 document in the protobuf form (gnostic's `openapi_v2.Document`)
/// that kubectl up to 1.28 asks for with
/// `Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf`.
enum OpenAPIv2Protobuf {
    static let contentType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

    static func encode(_ document: JSON) -> [UInt8] {
        var writer = WireWriter()
        writer.string(1, document["swagger"]?.string)
        writer.message(2) { info in
            info.string(1, document[path: ["info", "title"]]?.string)
            info.string(2, document[path: ["info", "version"]]?.string)
        }
        writer.message(8) { paths in
            for (name, item) in (document["paths"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                paths.message(2) { named in
                    named.string(1, name)
                    named.message(2) { pathItem in
                        for (field, method) in [(2, "get"), (3, "put"), (4, "post"), (5, "delete"), (8, "patch")] {
                            guard let operation = item[method] else { continue }
                            pathItem.message(field, self.operation(operation))
                        }
                    }
                }
            }
        }
        writer.message(9) { definitions in
            for (name, schema) in (document["definitions"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
                definitions.message(1) { named in
                    named.string(1, name)
                    named.message(2, self.schema(schema))
                }
            }
        }
        return writer.bytes
    }

    static func operation(_ operation: JSON) -> [UInt8] {
        var writer = WireWriter()
        writer.string(5, operation["operationId"]?.string)
        for parameter in operation["parameters"]?.array ?? [] {
            writer.message(8) { item in
                item.message(1) { wrapped in
                    if parameter["in"]?.string == "body" {
                        wrapped.message(1) { body in
                            body.string(2, parameter["name"]?.string)
                            body.string(3, "body")
                            body.bool(4, parameter["required"]?.bool ?? false)
                            body.message(5, schema(parameter["schema"] ?? [:]))
                        }
                    } else {
                        wrapped.message(2) { nonBody in
                            nonBody.message(3) { query in
                                query.string(2, parameter["in"]?.string)
                                query.string(4, parameter["name"]?.string)
                                query.string(6, parameter["type"]?.string)
                                query.bool(20, parameter["uniqueItems"]?.bool ?? false)
                            }
                        }
                    }
                }
            }
        }
        writer.message(9) { responses in
            responses.message(1) { named in
                named.string(1, "200")
                named.message(2) { value in value.message(1) { response in response.string(1, "OK") } }
            }
        }
        extensions(operation, into: &writer, field: 13)
        return writer.bytes
    }

    static func schema(_ schema: JSON) -> [UInt8] {
        var writer = WireWriter()
        writer.string(1, schema["$ref"]?.string)
        writer.string(2, schema["format"]?.string)
        writer.string(4, schema["description"]?.string)
        for required in schema["required"]?.array ?? [] { writer.string(19, required.string) }
        if let additional = schema["additionalProperties"] {
            writer.message(21) { item in item.message(1, self.schema(additional)) }
        }
        if let type = schema["type"]?.string {
            writer.message(22) { item in item.string(1, type) }
        }
        if let items = schema["items"] {
            writer.message(23) { item in item.message(1, self.schema(items)) }
        }
        for member in schema["allOf"]?.array ?? [] { writer.message(24, self.schema(member)) }
        if let properties = schema["properties"]?.object {
            writer.message(25) { list in
                for (name, property) in properties.sorted(by: { $0.key < $1.key }) {
                    list.message(1) { named in
                        named.string(1, name)
                        named.message(2, self.schema(property))
                    }
                }
            }
        }
        extensions(schema, into: &writer, field: 31)
        return writer.bytes
    }

    /// `x-…` members, each as a name and its value as YAML text (JSON is YAML).
    static func extensions(_ object: JSON, into writer: inout WireWriter, field: Int) {
        for (name, value) in (object.object ?? [:]).sorted(by: { $0.key < $1.key }) where name.hasPrefix("x-") {
            writer.message(field) { named in
                named.string(1, name)
                named.message(2) { any in any.string(2, String(decoding: JSONCoding.encode(value), as: UTF8.self)) }
            }
        }
    }
}
