import Foundation
import KubeModel

/// Server-side printing: the `Table` kubectl asks for with `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`.
enum Tables {
    static func table(_ objects: [JSON], resource: ResourceType, resourceVersion: String, continueToken: String?) -> JSON {
        let now = Date()
        let columns: [JSON] = resource.strategy.columns.map { column in
            ["name": .string(column.name), "type": .string(column.type), "format": .string(column.format),
             "description": .string(column.description), "priority": .int(Int64(column.priority))]
        }
        let rows: [JSON] = objects.map { object in
            ["cells": .array(resource.strategy.cells(object, now: now)), "object": partialMetadata(object)]
        }
        var metadata: JSON = ["resourceVersion": .string(resourceVersion)]
        if let continueToken { metadata["continue"] = .string(continueToken) }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": .array(columns),
                "rows": .array(rows)]
    }

    /// What a row carries of its object: the metadata, for the namespace column and `--show-labels`.
    static func partialMetadata(_ object: JSON) -> JSON {
        ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]
    }
}
