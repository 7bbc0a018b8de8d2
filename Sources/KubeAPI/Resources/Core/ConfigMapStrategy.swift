import Foundation
import KubeModel

struct ConfigMapStrategy: ResourceStrategy {
    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let data = object["data"]?.object ?? [:], binary = object["binaryData"]?.object ?? [:]
        for key in data.keys.sorted() where !Names.isConfigKey(key) {
            errors.append(.invalid("data", .string(key), Names.configKeyMessage))
        }
        for key in Set(data.keys).intersection(binary.keys).sorted() {
            errors.append(.invalid("data", .string(key), "duplicate of key present in binaryData"))
        }
        return errors
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Data", type: "integer", description: "Number of keys in the ConfigMap"), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let count = (object["data"]?.object?.count ?? 0) + (object["binaryData"]?.object?.count ?? 0)
        return [.string(object.name), .int(Int64(count)), .string(Age.since(object.creationTimestamp, now: now))]
    }
}

struct SecretStrategy: ResourceStrategy {
    func applyDefaults(_ object: inout JSON) {
        setIfAbsent(&object, "type", "Opaque")
        // stringData is write-only: merged into data (base64) and dropped.
        if let strings = object["stringData"]?.object {
            var data = object["data"]?.object ?? [:]
            for (key, value) in strings {
                data[key] = .string(Data((value.string ?? "").utf8).base64EncodedString())
            }
            object["data"] = .object(data)
            object["stringData"] = nil
        }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in (object["data"]?.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            if !Names.isConfigKey(key) { errors.append(.invalid("data[\(key)]", .string(key), Names.configKeyMessage)) }
            if Data(base64Encoded: value.string ?? "") == nil {
                errors.append(.invalid("data[\(key)]", "<secret contents redacted>", "illegal base64 data"))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if object["type"] != old["type"] { errors.append(.invalid("type", object["type"] ?? .null, "field is immutable")) }
        if old["immutable"]?.bool == true, object["data"] != old["data"] {
            errors.append(.forbidden("data", "field is immutable when `immutable` is set"))
        }
        return errors
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["type": object["type"]?.string ?? ""]
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Type", description: "The type of the secret"),
         TableColumn("Data", type: "integer", description: "The number of entries in the secret"), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        [.string(object.name), .string(object["type"]?.string ?? "Opaque"), .int(Int64(object["data"]?.object?.count ?? 0)),
         .string(Age.since(object.creationTimestamp, now: now))]
    }
}
