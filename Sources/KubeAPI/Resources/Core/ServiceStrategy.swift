import Foundation
import KubeModel

struct ServiceStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        var spec = object["spec"] ?? [:]
        setIfAbsent(&spec, "type", "ClusterIP")
        setIfAbsent(&spec, "sessionAffinity", "None")
        setIfAbsent(&spec, "internalTrafficPolicy", "Cluster")
        setIfAbsent(&spec, "ipFamilyPolicy", "SingleStack")
        setIfAbsent(&spec, "ipFamilies", ["IPv4"])
        if var ports = spec["ports"]?.array {
            for index in ports.indices {
                setIfAbsent(&ports[index], "protocol", "TCP")
                setIfAbsent(&ports[index], "targetPort", ports[index]["port"] ?? .null)
            }
            spec["ports"] = .array(ports)
        }
        if ["LoadBalancer", "NodePort"].contains(spec["type"]?.string) {
            setIfAbsent(&spec, "externalTrafficPolicy", "Cluster")
        }
        object["spec"] = spec
    }

    func prepareForCreate(_ object: inout JSON) {
        object["status"] = ["loadBalancer": [:]]
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors: [FieldError] = []
        let type = object[path: ["spec", "type"]]?.string ?? "ClusterIP"
        let types = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
        if !types.contains(type) { errors.append(.notSupported("spec.type", .string(type), types)) }
        let ports = object[path: ["spec", "ports"]]?.array ?? []
        if ports.isEmpty, type != "ExternalName", object[path: ["spec", "clusterIP"]]?.string != "None" {
            errors.append(.required("spec.ports"))
        }
        for (index, port) in ports.enumerated() {
            guard let number = port["port"]?.int, (1...65535).contains(number) else {
                errors.append(.invalid("spec.ports[\(index)].port", port["port"] ?? .null, "must be between 1 and 65535, inclusive"))
                continue
            }
            if ports.count > 1, (port["name"]?.string ?? "").isEmpty {
                errors.append(.required("spec.ports[\(index)].name"))
            }
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        var errors = validate(object)
        if let oldIP = old[path: ["spec", "clusterIP"]]?.string, !oldIP.isEmpty,
           let newIP = object[path: ["spec", "clusterIP"]]?.string, newIP != oldIP {
            errors.append(.invalid("spec.clusterIPs[0]", .string(newIP), "may not change once set"))
        }
        return errors
    }

    func selectableFields(_ object: JSON) -> [String: String] {
        ["spec.clusterIP": object[path: ["spec", "clusterIP"]]?.string ?? "",
         "spec.type": object[path: ["spec", "type"]]?.string ?? ""]
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Type", description: "The type of the service"),
         TableColumn("Cluster-IP", description: "The cluster IP of the service"),
         TableColumn("External-IP", description: "The external IPs of the service"),
         TableColumn("Port(s)", description: "The ports of the service"), .age,
         TableColumn("Selector", priority: 1, description: "The selector of the service")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let spec = object["spec"] ?? [:]
        let type = spec["type"]?.string ?? "ClusterIP"
        let ports = (spec["ports"]?.array ?? []).map { port -> String in
            let base = "\(port["port"]?.int ?? 0)"
            let node = port["nodePort"]?.int.map { ":\($0)" } ?? ""
            return "\(base)\(node)/\(port["protocol"]?.string ?? "TCP")"
        }
        let ingress = (object[path: ["status", "loadBalancer", "ingress"]]?.array ?? []).compactMap { $0["hostname"]?.string ?? $0["ip"]?.string }
        let external: String
        switch type {
        case "ExternalName": external = spec["externalName"]?.string ?? "<none>"
        case "LoadBalancer": external = ingress.isEmpty ? "<pending>" : ingress.joined(separator: ",")
        default: external = (spec["externalIPs"]?.array ?? []).compactMap(\.string).joined(separator: ",").nonEmpty ?? "<none>"
        }
        let selector = (spec["selector"]?.stringMap ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return [.string(object.name), .string(type), .string(spec["clusterIP"]?.string ?? "<none>"), .string(external),
                .string(ports.joined(separator: ",").nonEmpty ?? "<none>"), .string(Age.since(object.creationTimestamp, now: now)),
                .string(selector.joined(separator: ",").nonEmpty ?? "<none>")]
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
