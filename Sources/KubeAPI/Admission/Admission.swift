import KubeModel

/// One admission plugin: it sees every create before it is stored, after defaulting, and may change
/// (mutate) or refuse it, as kube-apiserver's admission chain does.
public protocol AdmissionPlugin: Sendable {
    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws
}

/// The plugins every Skiff API server runs, in kube-apiserver's order.
public enum Admission {
    public static let defaultPlugins: [any AdmissionPlugin] = [NamespaceLifecycle(), LimitRanger(), ServiceAccountAdmission(),
                                                               DefaultTolerationSeconds(), ResourceQuotaAdmission()]
}

/// Objects are created only in namespaces that exist and are not being deleted.
struct NamespaceLifecycle: AdmissionPlugin {
    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.namespaced else { return }
        guard let namespaces = registry.resources.find(group: "", version: "v1", resource: "namespaces") else { return }
        let current: JSON
        do {
            current = try await registry.get(namespaces, namespace: nil, name: namespace)
        } catch let error as APIError where error.code == 404 {
            throw APIError.notFound("namespaces", name: namespace)
        }
        if current[path: ["status", "phase"]]?.string == "Terminating" {
            throw APIError.forbidden("\(APIError.qualified(resource.resource, group: resource.group)) is forbidden: unable to create new content in namespace \(namespace) because it is being terminated",
                                     resource: resource.resource, group: resource.group)
        }
    }
}

/// Container defaults and bounds from the namespace's LimitRanges.
struct LimitRanger: AdmissionPlugin {
    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.group.isEmpty, resource.resource == "pods" else { return }
        try await registry.applyLimitRanges(&object, namespace: namespace)
    }
}

/// Refuses what would take a namespace past a ResourceQuota, and records the new usage.
struct ResourceQuotaAdmission: AdmissionPlugin {
    func admit(_ object: inout JSON, resource: ResourceType, namespace: String?, registry: Registry) async throws {
        guard let namespace, resource.namespaced else { return }
        try await registry.checkQuotas(object, resource: resource, namespace: namespace)
    }
}

extension Registry {
    /// Admission reads the watch cache as it is (resourceVersion 0), as admission plugins read informers.
    static var cachedRead: ListOptions {
        var options = ListOptions()
        options.resourceVersion = "0"
        return options
    }

    private func objects(_ resource: String, group: String = "", namespace: String) async throws -> [JSON] {
        guard let type = resources.all.first(where: { $0.resource == resource && $0.group == group }) else { return [] }
        return try await list(type, namespace: namespace, options: Self.cachedRead).items
    }

    /// Container defaults from `default`/`defaultRequest`, then `min`/`max` checks.
    func applyLimitRanges(_ pod: inout JSON, namespace: String) async throws {
        let ranges = try await objects("limitranges", namespace: namespace)
        guard !ranges.isEmpty else { return }
        var containers = pod[path: ["spec", "containers"]]?.array ?? []
        for range in ranges {
            for limit in range[path: ["spec", "limits"]]?.array ?? [] where (limit["type"]?.string ?? "Container") == "Container" {
                for index in containers.indices {
                    var resources = containers[index]["resources"] ?? [:]
                    for (field, defaults) in [("limits", limit["default"]), ("requests", limit["defaultRequest"] ?? limit["default"])] {
                        var values = resources[field]?.object ?? [:]
                        for (name, value) in defaults?.object ?? [:] where values[name] == nil { values[name] = value }
                        if !values.isEmpty { resources[field] = .object(values) }
                    }
                    containers[index]["resources"] = resources
                    for (name, bound) in limit["max"]?.object ?? [:] {
                        guard let maximum = Quantity(bound) else { continue }
                        for field in ["limits", "requests"] {
                            if let value = Quantity(resources[path: [field, name]]), value > maximum {
                                throw APIError.forbidden("pods \"\(pod.name)\" is forbidden: maximum \(name) usage per Container is \(bound.string ?? ""), but \(field == "limits" ? "limit" : "request") is \(resources[path: [field, name]]?.string ?? "")",
                                                         resource: "pods", name: pod.name)
                            }
                        }
                    }
                    for (name, bound) in limit["min"]?.object ?? [:] {
                        guard let minimum = Quantity(bound) else { continue }
                        for field in ["requests", "limits"] {
                            if let value = Quantity(resources[path: [field, name]]), value < minimum {
                                throw APIError.forbidden("pods \"\(pod.name)\" is forbidden: minimum \(name) usage per Container is \(bound.string ?? ""), but \(field == "limits" ? "limit" : "request") is \(resources[path: [field, name]]?.string ?? "")",
                                                         resource: "pods", name: pod.name)
                            }
                        }
                    }
                }
            }
        }
        pod[path: ["spec", "containers"]] = .array(containers)
    }

    /// What an object adds to each quota resource name it counts toward.
    public static func quotaUsage(of object: JSON, resource: ResourceType) -> [String: Quantity] {
        var usage: [String: Quantity] = ["count/\(resource.group.isEmpty ? resource.resource : "\(resource.resource).\(resource.group)")": Quantity(value: 1)]
        if resource.group.isEmpty, ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "replicationcontrollers",
                                    "resourcequotas"].contains(resource.resource) {
            usage[resource.resource] = Quantity(value: 1)
        }
        guard resource.group.isEmpty, resource.resource == "pods" else { return usage }
        for container in object[path: ["spec", "containers"]]?.array ?? [] {
            for (field, prefix) in [("requests", "requests."), ("limits", "limits.")] {
                for (name, value) in container[path: ["resources", field]]?.object ?? [:] {
                    guard let quantity = Quantity(value) else { continue }
                    usage[prefix + name, default: Quantity(value: 0)] = usage[prefix + name, default: Quantity(value: 0)] + quantity
                    if field == "requests" { usage[name, default: Quantity(value: 0)] = usage[name, default: Quantity(value: 0)] + quantity }
                }
            }
        }
        return usage
    }

    /// Refuses an object that would take a namespace past one of its quotas, as the quota admission does.
    func checkQuotas(_ object: JSON, resource: ResourceType, namespace: String) async throws {
        let quotas = try await objects("resourcequotas", namespace: namespace)
        guard !quotas.isEmpty else { return }
        let adding = Self.quotaUsage(of: object, resource: resource)
        // Usage is recorded only once every quota has admitted the object.
        var admitted: [(quota: JSON, tracked: [String], used: [String: Quantity])] = []
        for quota in quotas {
            let hard = quota[path: ["spec", "hard"]]?.object ?? [:]
            let tracked = hard.keys.filter { adding[$0] != nil || ($0.hasPrefix("requests.") || $0.hasPrefix("limits.") || ["cpu", "memory"].contains($0)) && resource.resource == "pods" && resource.group.isEmpty }
            guard !tracked.isEmpty else { continue }
            if resource.resource == "pods" && resource.group.isEmpty {
                let missing = tracked.filter { adding[$0] == nil }.sorted()
                if !missing.isEmpty {
                    throw APIError.forbidden("pods \"\(object.name)\" is forbidden: failed quota: \(quota.name): must specify \(missing.joined(separator: ","))",
                                             resource: "pods", name: object.name)
                }
            }
            let used = try await quotaUsed(tracked: tracked, namespace: namespace)
            var exceeded: [String] = []
            for name in tracked.sorted() {
                guard let limit = Quantity(hard[name]), let extra = adding[name] else { continue }
                if (used[name] ?? Quantity(value: 0)) + extra > limit { exceeded.append(name) }
            }
            if exceeded.isEmpty {
                admitted.append((quota, tracked, used))
                continue
            }
            if !exceeded.isEmpty {
                func list(_ values: (String) -> String) -> String { exceeded.map { "\($0)=\(values($0))" }.joined(separator: ",") }
                throw APIError.forbidden("\(APIError.qualified(resource.resource, group: resource.group)) \"\(object.name)\" is forbidden: exceeded quota: \(quota.name), requested: \(list { adding[$0]!.formatted(for: $0) }), used: \(list { (used[$0] ?? Quantity(value: 0)).formatted(for: $0) }), limited: \(list { Quantity(hard[$0])!.formatted(for: $0) })",
                                         resource: resource.resource, group: resource.group, name: object.name)
            }
        }
        for entry in admitted {
            try await recordUsage(entry.quota, tracked: entry.tracked, used: entry.used, adding: adding, namespace: namespace)
        }
    }

    /// Writes a quota's `status` (hard limits and what is used, with `adding` counted in), as the quota admission does.
    func recordUsage(_ quota: JSON, tracked: [String], used: [String: Quantity], adding: [String: Quantity], namespace: String) async throws {
        guard let quotas = resources.find(group: "", version: "v1", resource: "resourcequotas") else { return }
        let hard = quota[path: ["spec", "hard"]]?.object ?? [:]
        var totals: [String: JSON] = [:]
        for name in tracked {
            let total = (used[name] ?? Quantity(value: 0)) + (adding[name] ?? Quantity(value: 0))
            totals[name] = .string(total.formatted(for: name))
        }
        let changed = totals
        _ = try? await guaranteedUpdate(quotas, namespace: namespace, name: quota.name, expectedRevision: nil, dryRun: false) { current in
            var updated = current
            // What this object does not count toward keeps the usage already recorded.
            var usage = current[path: ["status", "used"]]?.object ?? [:]
            usage.merge(changed) { $1 }
            for name in hard.keys where usage[name] == nil { usage[name] = "0" }
            updated["status"] = ["hard": .object(hard), "used": .object(usage.filter { hard[$0.key] != nil })]
            return updated
        }
    }

    /// Whether objects of `type` count toward any of the tracked quota resource names.
    public static func countsTowardQuota(_ type: ResourceType, tracked: [String]) -> Bool {
        guard type.namespaced, type.isStored else { return false }
        let key = type.group.isEmpty ? type.resource : "\(type.resource).\(type.group)"
        return tracked.contains("count/\(key)") || tracked.contains(type.resource) && type.group.isEmpty
            || (type.resource == "pods" && type.group.isEmpty && tracked.contains { $0.hasPrefix("requests.") || $0.hasPrefix("limits.") || $0 == "cpu" || $0 == "memory" })
    }

    /// What `objects` of `type` add up to, for the tracked names: objects being deleted and finished pods no longer count.
    public static func quotaTotal(_ objects: [JSON], type: ResourceType, tracked: [String]) -> [String: Quantity] {
        var used: [String: Quantity] = [:]
        for object in objects where object.deletionTimestamp == nil {
            if type.resource == "pods", type.group.isEmpty, ["Succeeded", "Failed"].contains(object[path: ["status", "phase"]]?.string) { continue }
            for (name, quantity) in quotaUsage(of: object, resource: type) where tracked.contains(name) {
                used[name] = (used[name] ?? Quantity(value: 0)) + quantity
            }
        }
        return used
    }

    /// The namespace's current use of each tracked quota resource.
    func quotaUsed(tracked: [String], namespace: String) async throws -> [String: Quantity] {
        var used: [String: Quantity] = [:]
        for type in resources.all where Self.countsTowardQuota(type, tracked: tracked) {
            let objects = try await list(type, namespace: namespace, options: Self.cachedRead).items
            used.merge(Self.quotaTotal(objects, type: type, tracked: tracked)) { $0 + $1 }
        }
        return used
    }
}
