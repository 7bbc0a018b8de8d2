import Foundation
import KubeModel

/// A strategy that only prints: the columns `kubectl get` shows for a kind with nothing else particular.
struct PrintingStrategy: ResourceStrategy {
    let hasStatus: Bool
    let columns: [TableColumn]
    let print: @Sendable (JSON, Date) -> [JSON]

    func cells(_ object: JSON, now: Date) -> [JSON] { print(object, now) }
}

/// The columns of the real API server's printers, kind by kind.
enum PrintColumns {
    static func age(_ object: JSON, _ now: Date) -> JSON { .string(Age.since(object.creationTimestamp, now: now)) }
    static func text(_ value: JSON?, _ empty: String = "<none>") -> JSON {
        switch value {
        case .string(let text)? where !text.isEmpty: .string(text)
        case .int(let number)?: .string(String(number))
        default: .string(empty)
        }
    }

    static let createdAt = TableColumn("Created At", type: "date")

    /// Kinds whose table is the name and when it was made (roles, cluster roles, limit ranges).
    static func nameAndCreated(hasStatus: Bool = false) -> PrintingStrategy {
        PrintingStrategy(hasStatus: hasStatus, columns: [.name, createdAt]) { object, _ in
            [.string(object.name), text(object[path: ["metadata", "creationTimestamp"]])]
        }
    }

    static let roleBinding = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("Role"), .age,
                                                                          TableColumn("Users", priority: 1), TableColumn("Groups", priority: 1),
                                                                          TableColumn("ServiceAccounts", priority: 1)]) { object, now in
        let subjects = object["subjects"]?.array ?? []
        func names(_ kind: String) -> JSON {
            let matching = subjects.filter { $0["kind"]?.string == kind }
                .map { kind == "ServiceAccount" ? "\($0["namespace"]?.string ?? ""):\($0["name"]?.string ?? "")" : ($0["name"]?.string ?? "") }
            return .string(matching.joined(separator: ", "))
        }
        return [.string(object.name), .string("\(object[path: ["roleRef", "kind"]]?.string ?? "")/\(object[path: ["roleRef", "name"]]?.string ?? "")"),
                age(object, now), names("User"), names("Group"), names("ServiceAccount")]
    }

    static let lease = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("Holder"), .age]) { object, now in
        [.string(object.name), text(object[path: ["spec", "holderIdentity"]], ""), age(object, now)]
    }

    static let endpoints = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("Endpoints"), .age]) { object, now in
        var addresses: [String] = []
        for subset in object["subsets"]?.array ?? [] {
            let ports = (subset["ports"]?.array ?? []).compactMap { $0["port"]?.int }
            for address in (subset["addresses"]?.array ?? []).compactMap({ $0["ip"]?.string }) {
                addresses += ports.isEmpty ? [address] : ports.map { "\(address):\($0)" }
            }
        }
        let shown = addresses.prefix(3).joined(separator: ",") + (addresses.count > 3 ? " + \(addresses.count - 3) more..." : "")
        return [.string(object.name), .string(addresses.isEmpty ? "<none>" : shown), age(object, now)]
    }

    static let endpointSlice = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("AddressType"), TableColumn("Ports"),
                                                                            TableColumn("Endpoints"), .age]) { object, now in
        let ports = (object["ports"]?.array ?? []).compactMap { $0["port"]?.int.map(String.init) }
        let endpoints = (object["endpoints"]?.array ?? []).flatMap { ($0["addresses"]?.array ?? []).compactMap(\.string) }
        return [.string(object.name), text(object["addressType"]), .string(ports.isEmpty ? "<unset>" : ports.joined(separator: ",")),
                .string(endpoints.isEmpty ? "<unset>" : endpoints.prefix(3).joined(separator: ",")), age(object, now)]
    }

    static let persistentVolumeClaim = PrintingStrategy(hasStatus: true, columns: [
        .name, TableColumn("Status"), TableColumn("Volume"), TableColumn("Capacity"), TableColumn("Access Modes"),
        TableColumn("StorageClass"), TableColumn("VolumeAttributesClass"), .age, TableColumn("VolumeMode", priority: 1)]) { object, now in
        let modes = (object[path: ["status", "accessModes"]]?.array ?? []).compactMap(\.string).map(accessMode)
        return [.string(object.name), text(object[path: ["status", "phase"]], "Pending"), text(object[path: ["spec", "volumeName"]], ""),
                text(object[path: ["status", "capacity", "storage"]], ""), .string(modes.joined(separator: ",")),
                text(object[path: ["spec", "storageClassName"]]), text(object[path: ["spec", "volumeAttributesClassName"]], "<unset>"),
                age(object, now), text(object[path: ["spec", "volumeMode"]], "Filesystem")]
    }

    static let persistentVolume = PrintingStrategy(hasStatus: true, columns: [
        .name, TableColumn("Capacity"), TableColumn("Access Modes"), TableColumn("Reclaim Policy"), TableColumn("Status"),
        TableColumn("Claim"), TableColumn("StorageClass"), TableColumn("VolumeAttributesClass"), TableColumn("Reason"), .age]) { object, now in
        let modes = (object[path: ["spec", "accessModes"]]?.array ?? []).compactMap(\.string).map(accessMode)
        let claim = object[path: ["spec", "claimRef"]].map { "\($0["namespace"]?.string ?? "")/\($0["name"]?.string ?? "")" } ?? ""
        return [.string(object.name), text(object[path: ["spec", "capacity", "storage"]], ""), .string(modes.joined(separator: ",")),
                text(object[path: ["spec", "persistentVolumeReclaimPolicy"]], ""), text(object[path: ["status", "phase"]], "Pending"),
                .string(claim), text(object[path: ["spec", "storageClassName"]], ""), text(object[path: ["spec", "volumeAttributesClassName"]], "<unset>"),
                text(object[path: ["status", "reason"]], ""), age(object, now)]
    }

    static func accessMode(_ mode: String) -> String {
        ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"][mode] ?? mode
    }

    static let ingress = PrintingStrategy(hasStatus: true, columns: [.name, TableColumn("Class"), TableColumn("Hosts"),
                                                                     TableColumn("Address"), TableColumn("Ports"), .age]) { object, now in
        let rules = object[path: ["spec", "rules"]]?.array ?? []
        let hosts = rules.compactMap { $0["host"]?.string }
        let addresses = (object[path: ["status", "loadBalancer", "ingress"]]?.array ?? []).compactMap { $0["hostname"]?.string ?? $0["ip"]?.string }
        return [.string(object.name), text(object[path: ["spec", "ingressClassName"]]), .string(hosts.isEmpty ? "*" : hosts.joined(separator: ",")),
                .string(addresses.joined(separator: ",")), .string((object[path: ["spec", "tls"]]?.array ?? []).isEmpty ? "80" : "80, 443"),
                age(object, now)]
    }

    static let ingressClass = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("Controller"), TableColumn("Parameters"), .age]) { object, now in
        [.string(object.name), text(object[path: ["spec", "controller"]]), text(object[path: ["spec", "parameters", "name"]]), age(object, now)]
    }

    static let podDisruptionBudget = PrintingStrategy(hasStatus: true, columns: [
        .name, TableColumn("Min Available"), TableColumn("Max Unavailable"), TableColumn("Allowed Disruptions", type: "integer"), .age]) { object, now in
        [.string(object.name), text(object[path: ["spec", "minAvailable"]], "N/A"), text(object[path: ["spec", "maxUnavailable"]], "N/A"),
         .int(object[path: ["status", "disruptionsAllowed"]]?.int ?? 0), age(object, now)]
    }

    static let horizontalPodAutoscaler = PrintingStrategy(hasStatus: true, columns: [
        .name, TableColumn("Reference"), TableColumn("Targets"), TableColumn("MinPods", type: "integer"),
        TableColumn("MaxPods", type: "integer"), TableColumn("Replicas", type: "integer"), .age]) { object, now in
        let target = object[path: ["spec", "scaleTargetRef"]] ?? [:]
        return [.string(object.name), .string("\(target["kind"]?.string ?? "")/\(target["name"]?.string ?? "")"), .string("<unknown>"),
                .int(object[path: ["spec", "minReplicas"]]?.int ?? 1), .int(object[path: ["spec", "maxReplicas"]]?.int ?? 0),
                .int(object[path: ["status", "currentReplicas"]]?.int ?? 0), age(object, now)]
    }

    static let storageClass = PrintingStrategy(hasStatus: false, columns: [
        .name, TableColumn("Provisioner"), TableColumn("ReclaimPolicy"), TableColumn("VolumeBindingMode"),
        TableColumn("AllowVolumeExpansion", type: "boolean"), .age]) { object, now in
        let isDefault = object.annotations["storageclass.kubernetes.io/is-default-class"] == "true"
        return [.string(object.name + (isDefault ? " (default)" : "")), text(object["provisioner"]), text(object["reclaimPolicy"], "Delete"),
                text(object["volumeBindingMode"], "Immediate"), .bool(object["allowVolumeExpansion"]?.bool ?? false), age(object, now)]
    }

    static let networkPolicy = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("Pod-Selector"), .age]) { object, now in
        let labels = object[path: ["spec", "podSelector", "matchLabels"]]?.stringMap ?? [:]
        return [.string(object.name), .string(labels.isEmpty ? "<none>" : labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")),
                age(object, now)]
    }

    static let controllerRevision = PrintingStrategy(hasStatus: false, columns: [.name, TableColumn("Controller"), TableColumn("Revision", type: "integer"),
                                                                                 .age]) { object, now in
        let owner = (object[path: ["metadata", "ownerReferences"]]?.array ?? []).first { $0["controller"]?.bool == true }
        return [.string(object.name),
                .string(owner.map { "\(($0["kind"]?.string ?? "").lowercased()).\(($0["apiVersion"]?.string ?? "").split(separator: "/").first ?? "")/\($0["name"]?.string ?? "")" } ?? "<none>"),
                .int(object["revision"]?.int ?? 0), age(object, now)]
    }

    static let resourceQuota = PrintingStrategy(hasStatus: true, columns: [.name, .age, TableColumn("Request"), TableColumn("Limit")]) { object, now in
        let hard = object[path: ["status", "hard"]]?.object ?? object[path: ["spec", "hard"]]?.object ?? [:]
        let used = object[path: ["status", "used"]]?.object ?? [:]
        func describe(_ keys: [String]) -> String {
            keys.sorted().map { "\($0): \(used[$0]?.string ?? "0")/\(hard[$0]?.string ?? "")" }.joined(separator: ", ")
        }
        let limits = hard.keys.filter { $0.hasPrefix("limits.") }
        return [.string(object.name), age(object, now), .string(describe(hard.keys.filter { !$0.hasPrefix("limits.") })), .string(describe(Array(limits)))]
    }
}
