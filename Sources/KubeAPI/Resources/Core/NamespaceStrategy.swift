import Foundation
import KubeModel

struct NamespaceStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        // Every namespace carries its own name as a label, for namespace selectors.
        object[path: ["metadata", "labels", "kubernetes.io/metadata.name"]] = .string(object.name)
        setIfAbsent(&object, "spec", [:])
        object[path: ["spec", "finalizers"]] = object[path: ["spec", "finalizers"]] ?? ["kubernetes"]
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Active"]
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["status.phase": object[path: ["status", "phase"]]?.string ?? ""]
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Status", description: "The status of the namespace"), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        [.string(object.name), .string(object[path: ["status", "phase"]]?.string ?? "Active"),
         .string(Age.since(object.creationTimestamp, now: now))]
    }
}
