import KubeModel

/// The defaults the API server fills into a pod spec (also inside the pod
/// templates of Deployments, ReplicaSets, StatefulSets, DaemonSets and Jobs).
enum PodDefaults {
    static func apply(toSpec spec: inout JSON) {
        setIfAbsent(&spec, "restartPolicy", "Always")
        setIfAbsent(&spec, "terminationGracePeriodSeconds", 30)
        setIfAbsent(&spec, "dnsPolicy", "ClusterFirst")
        setIfAbsent(&spec, "securityContext", [:])
        setIfAbsent(&spec, "schedulerName", "default-scheduler")
        setIfAbsent(&spec, "enableServiceLinks", true)
        for field in ["containers", "initContainers"] {
            guard var containers = spec[field]?.array else { continue }
            for index in containers.indices { applyToContainer(&containers[index]) }
            spec[field] = .array(containers)
        }
    }

    static func applyToContainer(_ container: inout JSON) {
        let image = container["image"]?.string ?? ""
        // `:latest` or no tag means the image can change under the same name.
        let lastPart = image.split(separator: "/").last.map(String.init) ?? image
        let tagged = lastPart.contains(":") && !lastPart.hasSuffix(":latest")
        let digested = image.contains("@")
        setIfAbsent(&container, "imagePullPolicy", .string(tagged || digested ? "IfNotPresent" : "Always"))
        setIfAbsent(&container, "terminationMessagePath", "/dev/termination-log")
        setIfAbsent(&container, "terminationMessagePolicy", "File")
        setIfAbsent(&container, "resources", [:])
        if var ports = container["ports"]?.array {
            for index in ports.indices { setIfAbsent(&ports[index], "protocol", "TCP") }
            container["ports"] = .array(ports)
        }
    }

    static func validate(spec: JSON, path: String) -> [FieldError] {
        var errors: [FieldError] = []
        let containers = spec["containers"]?.array ?? []
        if containers.isEmpty { errors.append(.required("\(path).containers")) }
        var names: Set<String> = []
        for (index, container) in containers.enumerated() {
            let field = "\(path).containers[\(index)]"
            let name = container["name"]?.string ?? ""
            if name.isEmpty {
                errors.append(.required("\(field).name"))
            } else if !Names.isDNSLabel(name) {
                errors.append(.invalid("\(field).name", .string(name), Names.labelMessage))
            } else if !names.insert(name).inserted {
                errors.append(FieldError(kind: .duplicate, field: "\(field).name", value: .string(name), detail: ""))
            }
            if (container["image"]?.string ?? "").isEmpty { errors.append(.required("\(field).image")) }
        }
        if let policy = spec["restartPolicy"]?.string, !["Always", "OnFailure", "Never"].contains(policy) {
            errors.append(.notSupported("\(path).restartPolicy", .string(policy), ["Always", "OnFailure", "Never"]))
        }
        return errors
    }
}

func setIfAbsent(_ object: inout JSON, _ key: String, _ value: JSON) {
    if object[key] == nil || object[key] == .null { object[key] = value }
}
