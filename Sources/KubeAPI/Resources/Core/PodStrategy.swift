import Foundation
import KubeModel

struct PodStrategy: ResourceStrategy {
    var hasStatus: Bool { true }
    /// Node agents and the scheduler look pods up by the node they are bound to.
    var indexedFields: [String] { ["spec.nodeName"] }

    func summary(_ object: JSON) -> [String: String] {
        let ready = (object[path: ["status", "conditions"]]?.array ?? []).first { $0["type"]?.string == "Ready" }
        return ["ready": ready?["status"]?.string ?? "False", "readySince": ready?["lastTransitionTime"]?.string ?? "",
                "deleting": object.deletionTimestamp == nil ? "" : "true",
                "created": object[path: ["metadata", "creationTimestamp"]]?.string ?? ""]
    }

    func subresource(_ name: String) -> (any SubresourceHandler)? {
        switch name {
        case "binding": PodBinding()
        case "eviction": PodEviction()
        case "log", "exec", "attach", "portforward": PodStreams(subresource: name)
        default: nil
        }
    }

    func applyDefaults(_ object: inout JSON) {
        var spec = object["spec"] ?? [:]
        PodDefaults.apply(toSpec: &spec)
        setIfAbsent(&spec, "serviceAccountName", "default")
        setIfAbsent(&spec, "priority", 0)
        setIfAbsent(&spec, "preemptionPolicy", "PreemptLowerPriority")
        object["spec"] = spec
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["phase": "Pending", "qosClass": .string(Self.qosClass(object["spec"] ?? [:]))]
    }

    func validate(_ object: JSON) -> [FieldError] {
        PodDefaults.validate(spec: object["spec"] ?? [:], path: "spec")
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        // Pods are immutable but for images, active deadline, tolerations and a few more.
        var mutableOld = old["spec"] ?? [:], mutableNew = object["spec"] ?? [:]
        for field in ["activeDeadlineSeconds", "tolerations", "schedulingGates", "nodeName"] {
            mutableOld[field] = nil
            mutableNew[field] = nil
        }
        for field in ["containers", "initContainers"] {
            mutableOld[field] = mutableOld[field].map(Self.withoutImages)
            mutableNew[field] = mutableNew[field].map(Self.withoutImages)
        }
        if mutableOld != mutableNew {
            return [.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")]
        }
        return validate(object)
    }

    static func withoutImages(_ containers: JSON) -> JSON {
        .array((containers.array ?? []).map { container in
            var container = container
            container["image"] = nil
            return container
        })
    }

    /// Guaranteed when every container's requests equal its limits, BestEffort when none has any.
    static func qosClass(_ spec: JSON) -> String {
        let containers = spec["containers"]?.array ?? []
        let resources = containers.map { $0["resources"] ?? [:] }
        if resources.allSatisfy({ ($0["requests"]?.object ?? [:]).isEmpty && ($0["limits"]?.object ?? [:]).isEmpty }) {
            return "BestEffort"
        }
        let guaranteed = resources.allSatisfy { resource in
            let limits = resource["limits"]?.object ?? [:]
            let requests = resource["requests"]?.object ?? limits
            return limits["cpu"] != nil && limits["memory"] != nil && requests["cpu"] == limits["cpu"] && requests["memory"] == limits["memory"]
        }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        [
            "spec.nodeName": object[path: ["spec", "nodeName"]]?.string ?? "",
            "spec.restartPolicy": object[path: ["spec", "restartPolicy"]]?.string ?? "",
            "spec.schedulerName": object[path: ["spec", "schedulerName"]]?.string ?? "",
            "spec.serviceAccountName": object[path: ["spec", "serviceAccountName"]]?.string ?? "",
            "status.phase": object[path: ["status", "phase"]]?.string ?? "",
            "status.podIP": object[path: ["status", "podIP"]]?.string ?? "",
            "status.nominatedNodeName": object[path: ["status", "nominatedNodeName"]]?.string ?? "",
        ]
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
         TableColumn("Status", description: "The aggregate status of the containers in this pod."),
         TableColumn("Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
         .age,
         TableColumn("IP", priority: 1, description: "The IP address assigned to the pod"),
         TableColumn("Node", priority: 1, description: "The name of the node that the pod is assigned to"),
         TableColumn("Nominated Node", priority: 1, description: "The name of the node that the pod was nominated to"),
         TableColumn("Readiness Gates", priority: 1, description: "The readiness gates of the pod")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let containers = object[path: ["spec", "containers"]]?.array ?? []
        let statuses = object[path: ["status", "containerStatuses"]]?.array ?? []
        let ready = statuses.filter { $0["ready"]?.bool == true }.count
        let restarts = statuses.reduce(Int64(0)) { $0 + ($1["restartCount"]?.int ?? 0) }
        var status = object[path: ["status", "reason"]]?.string ?? object[path: ["status", "phase"]]?.string ?? "Pending"
        for container in statuses {
            if let reason = container[path: ["state", "waiting", "reason"]]?.string { status = reason }
            if let reason = container[path: ["state", "terminated", "reason"]]?.string { status = reason }
        }
        if object.deletionTimestamp != nil { status = "Terminating" }
        let gates = object[path: ["spec", "readinessGates"]]?.array ?? []
        return [.string(object.name), .string("\(ready)/\(containers.count)"), .string(status), .string(String(restarts)),
                .string(Age.since(object.creationTimestamp, now: now)),
                .string(object[path: ["status", "podIP"]]?.string ?? "<none>"),
                .string(object[path: ["spec", "nodeName"]]?.string ?? "<none>"),
                .string(object[path: ["status", "nominatedNodeName"]]?.string ?? "<none>"),
                .string(gates.isEmpty ? "<none>" : "0/\(gates.count)")]
    }
}
