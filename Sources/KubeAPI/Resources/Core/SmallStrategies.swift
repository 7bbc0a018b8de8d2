import Foundation
import KubeModel

struct NodeStrategy: ResourceStrategy {
    var hasStatus: Bool { true }
    var keepsStatusOnCreate: Bool { true }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["spec.unschedulable": String(object[path: ["spec", "unschedulable"]]?.bool ?? false)]
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Status", description: "The status of the node"), TableColumn("Roles", description: "The roles of the node"),
         .age, TableColumn("Version", description: "Kubelet Version reported by the node."),
         TableColumn("Internal-IP", priority: 1), TableColumn("External-IP", priority: 1), TableColumn("OS-Image", priority: 1),
         TableColumn("Kernel-Version", priority: 1), TableColumn("Container-Runtime", priority: 1)]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let conditions = object[path: ["status", "conditions"]]?.array ?? []
        let ready = conditions.first { $0["type"]?.string == "Ready" }?["status"]?.string
        var status = ready == "True" ? "Ready" : (ready == nil ? "Unknown" : "NotReady")
        if object[path: ["spec", "unschedulable"]]?.bool == true { status += ",SchedulingDisabled" }
        let roles = object.labels.keys.filter { $0.hasPrefix("node-role.kubernetes.io/") }
            .map { String($0.dropFirst("node-role.kubernetes.io/".count)) }.sorted()
        let addresses = object[path: ["status", "addresses"]]?.array ?? []
        func address(_ type: String) -> String {
            addresses.first { $0["type"]?.string == type }?["address"]?.string ?? "<none>"
        }
        let info = object[path: ["status", "nodeInfo"]] ?? [:]
        return [.string(object.name), .string(status), .string(roles.isEmpty ? "<none>" : roles.joined(separator: ",")),
                .string(Age.since(object.creationTimestamp, now: now)), .string(info["kubeletVersion"]?.string ?? ""),
                .string(address("InternalIP")), .string(address("ExternalIP")), .string(info["osImage"]?.string ?? "<unknown>"),
                .string(info["kernelVersion"]?.string ?? "<unknown>"), .string(info["containerRuntimeVersion"]?.string ?? "<unknown>")]
    }
}

struct ServiceAccountStrategy: ResourceStrategy {
    var columns: [TableColumn] {
        [.name, TableColumn("Secrets", type: "integer", description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use."), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        [.string(object.name), .int(Int64(object["secrets"]?.array?.count ?? 0)), .string(Age.since(object.creationTimestamp, now: now))]
    }

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        name == "token" ? ServiceAccountTokenRequest() : nil
    }
}

struct EventStrategy: ResourceStrategy {
    func selectableFields(_ object: JSON) -> [String: String] {
        var fields: [String: String] = ["reason": object["reason"]?.string ?? "", "type": object["type"]?.string ?? "",
                                        "source": object[path: ["source", "component"]]?.string ?? ""]
        for field in ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"] {
            fields["involvedObject.\(field)"] = object[path: ["involvedObject", field]]?.string ?? ""
        }
        return fields
    }

    var columns: [TableColumn] {
        [TableColumn("Last Seen"), TableColumn("Type"), TableColumn("Reason"), TableColumn("Object"), TableColumn("Message")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let last = (object["lastTimestamp"]?.string ?? object["eventTime"]?.string).flatMap(Timestamps.parse) ?? object.creationTimestamp
        let involved = object["involvedObject"] ?? [:]
        return [.string(Age.since(last, now: now)), .string(object["type"]?.string ?? ""), .string(object["reason"]?.string ?? ""),
                .string("\((involved["kind"]?.string ?? "").lowercased())/\(involved["name"]?.string ?? "")"),
                .string(object["message"]?.string ?? "")]
    }
}
