import Foundation
import KubeModel

/// What every workload with a pod template shares: template defaults, a
/// selector that must match the template's labels, and `replicas`.
enum WorkloadTemplates {
    static func defaultTemplate(_ object: inout JSON) {
        guard var spec = object[path: ["spec", "template", "spec"]] else { return }
        PodDefaults.apply(toSpec: &spec)
        object[path: ["spec", "template", "spec"]] = spec
        setIfAbsent(&object, "spec", [:])
        if object[path: ["spec", "template", "metadata"]] == nil { object[path: ["spec", "template", "metadata"]] = [:] }
    }

    static func validate(_ object: JSON, needsSelector: Bool = true) -> [FieldError] {
        var errors: [FieldError] = []
        guard let template = object[path: ["spec", "template"]] else { return [.required("spec.template")] }
        errors += PodDefaults.validate(spec: template["spec"] ?? [:], path: "spec.template.spec")
        if needsSelector {
            guard let selectorJSON = object[path: ["spec", "selector"]], let selector = try? LabelSelector(object: selectorJSON),
                  !selector.isEmpty else {
                return errors + [.required("spec.selector")]
            }
            if !selector.matches(template.labels) {
                errors.append(.invalid("spec.template.metadata.labels", .strings(template.labels),
                                       "`selector` does not match template `labels`"))
            }
        }
        if let replicas = object[path: ["spec", "replicas"]]?.int, replicas < 0 {
            errors.append(.invalid("spec.replicas", .int(replicas), "must be greater than or equal to 0"))
        }
        return errors
    }

    static func validateSelectorUnchanged(_ object: JSON, old: JSON) -> [FieldError] {
        object[path: ["spec", "selector"]] == old[path: ["spec", "selector"]] ? []
            : [.invalid("spec.selector", object[path: ["spec", "selector"]] ?? .null, "field is immutable")]
    }

    static func containers(_ object: JSON) -> (names: String, images: String) {
        let containers = object[path: ["spec", "template", "spec", "containers"]]?.array ?? []
        return (containers.compactMap { $0["name"]?.string }.joined(separator: ","),
                containers.compactMap { $0["image"]?.string }.joined(separator: ","))
    }

    static func selectorText(_ object: JSON) -> String {
        guard let selector = object[path: ["spec", "selector"]] else { return "<none>" }
        if selector["matchLabels"] == nil, selector["matchExpressions"] == nil {
            // A ReplicationController's selector: a plain map.
            let parts = selector.stringMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            return parts.isEmpty ? "<none>" : parts.joined(separator: ",")
        }
        var parts = selector["matchLabels"]?.stringMap.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" } ?? []
        for expression in selector["matchExpressions"]?.array ?? [] {
            let values = (expression["values"]?.array ?? []).compactMap(\.string).joined(separator: ",")
            parts.append("\(expression["key"]?.string ?? "") \(expression["operator"]?.string?.lowercased() ?? "") (\(values))")
        }
        return parts.isEmpty ? "<none>" : parts.joined(separator: ",")
    }

    static func count(_ object: JSON, _ path: [String]) -> Int64 { object[path: path]?.int ?? 0 }
}

struct DeploymentStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        WorkloadTemplates.defaultTemplate(&object)
        setIfAbsent(&object, "spec", [:])
        var spec = object["spec"] ?? [:]
        setIfAbsent(&spec, "replicas", 1)
        setIfAbsent(&spec, "revisionHistoryLimit", 10)
        setIfAbsent(&spec, "progressDeadlineSeconds", 600)
        var strategy = spec["strategy"] ?? [:]
        setIfAbsent(&strategy, "type", "RollingUpdate")
        if strategy["type"]?.string == "RollingUpdate" {
            var rolling = strategy["rollingUpdate"] ?? [:]
            setIfAbsent(&rolling, "maxUnavailable", "25%")
            setIfAbsent(&rolling, "maxSurge", "25%")
            strategy["rollingUpdate"] = rolling
        }
        spec["strategy"] = strategy
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] { WorkloadTemplates.validate(object) }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        WorkloadTemplates.validate(object) + WorkloadTemplates.validateSelectorUnchanged(object, old: old)
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Ready", description: "Number of the pod with ready state"),
         TableColumn("Up-to-date", type: "integer", description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
         TableColumn("Available", type: "integer", description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
         .age,
         TableColumn("Containers", priority: 1, description: "Names of each container in the template."),
         TableColumn("Images", priority: 1, description: "Images referenced by each container in the template."),
         TableColumn("Selector", priority: 1, description: "Label selector for pods.")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let containers = WorkloadTemplates.containers(object)
        return [.string(object.name),
                .string("\(WorkloadTemplates.count(object, ["status", "readyReplicas"]))/\(WorkloadTemplates.count(object, ["spec", "replicas"]))"),
                .int(WorkloadTemplates.count(object, ["status", "updatedReplicas"])),
                .int(WorkloadTemplates.count(object, ["status", "availableReplicas"])),
                .string(Age.since(object.creationTimestamp, now: now)),
                .string(containers.names), .string(containers.images), .string(WorkloadTemplates.selectorText(object))]
    }
}

struct ReplicaSetStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        WorkloadTemplates.defaultTemplate(&object)
        object[path: ["spec", "replicas"]] = object[path: ["spec", "replicas"]] ?? 1
    }

    func validate(_ object: JSON) -> [FieldError] { WorkloadTemplates.validate(object) }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        WorkloadTemplates.validate(object) + WorkloadTemplates.validateSelectorUnchanged(object, old: old)
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Desired", type: "integer", description: "Number of desired pods."),
         TableColumn("Current", type: "integer", description: "Number of actual pods."),
         TableColumn("Ready", type: "integer", description: "Number of pods ready."), .age,
         TableColumn("Containers", priority: 1, description: "Names of each container in the template."),
         TableColumn("Images", priority: 1, description: "Images referenced by each container in the template."),
         TableColumn("Selector", priority: 1, description: "Label selector for pods.")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let containers = WorkloadTemplates.containers(object)
        return [.string(object.name), .int(WorkloadTemplates.count(object, ["spec", "replicas"])),
                .int(WorkloadTemplates.count(object, ["status", "replicas"])), .int(WorkloadTemplates.count(object, ["status", "readyReplicas"])),
                .string(Age.since(object.creationTimestamp, now: now)),
                .string(containers.names), .string(containers.images), .string(WorkloadTemplates.selectorText(object))]
    }
}

/// ReplicationControllers: a ReplicaSet's printing, with the v1 API's map selector, which defaults to the
/// template's labels (as do the controller's own labels when it has none).
struct ReplicationControllerStrategy: ResourceStrategy {
    private let replicaSets = ReplicaSetStrategy()
    var hasStatus: Bool { true }
    var columns: [TableColumn] { replicaSets.columns }
    func cells(_ object: JSON, now: Date) -> [JSON] { replicaSets.cells(object, now: now) }

    func applyDefaults(_ object: inout JSON) {
        replicaSets.applyDefaults(&object)
        let templateLabels = object[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        guard !templateLabels.isEmpty else { return }
        if (object[path: ["spec", "selector"]]?.stringMap ?? [:]).isEmpty {
            object[path: ["spec", "selector"]] = .strings(templateLabels)
        }
        if object.labels.isEmpty { object[path: ["metadata", "labels"]] = .strings(templateLabels) }
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors = WorkloadTemplates.validate(object, needsSelector: false)
        let selector = object[path: ["spec", "selector"]]?.stringMap ?? [:]
        if selector.isEmpty { return errors + [.required("spec.selector")] }
        let labels = object[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        if !selector.allSatisfy({ labels[$0.key] == $0.value }) {
            errors.append(.invalid("spec.template.metadata.labels", .strings(labels), "`selector` does not match template `labels`"))
        }
        return errors
    }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] { validate(object) }
}

struct StatefulSetStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        WorkloadTemplates.defaultTemplate(&object)
        var spec = object["spec"] ?? [:]
        setIfAbsent(&spec, "replicas", 1)
        setIfAbsent(&spec, "podManagementPolicy", "OrderedReady")
        setIfAbsent(&spec, "revisionHistoryLimit", 10)
        setIfAbsent(&spec, "updateStrategy", ["type": "RollingUpdate", "rollingUpdate": ["partition": 0]])
        setIfAbsent(&spec, "persistentVolumeClaimRetentionPolicy", ["whenDeleted": "Retain", "whenScaled": "Retain"])
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] { WorkloadTemplates.validate(object) }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        WorkloadTemplates.validate(object) + WorkloadTemplates.validateSelectorUnchanged(object, old: old)
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Ready", description: "Number of the pod with ready state"), .age,
         TableColumn("Containers", priority: 1, description: "Names of each container in the template."),
         TableColumn("Images", priority: 1, description: "Images referenced by each container in the template.")]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let containers = WorkloadTemplates.containers(object)
        return [.string(object.name),
                .string("\(WorkloadTemplates.count(object, ["status", "readyReplicas"]))/\(WorkloadTemplates.count(object, ["spec", "replicas"]))"),
                .string(Age.since(object.creationTimestamp, now: now)), .string(containers.names), .string(containers.images)]
    }
}

struct DaemonSetStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        WorkloadTemplates.defaultTemplate(&object)
        var spec = object["spec"] ?? [:]
        setIfAbsent(&spec, "revisionHistoryLimit", 10)
        setIfAbsent(&spec, "updateStrategy", ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1, "maxSurge": 0]])
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] { WorkloadTemplates.validate(object) }

    func validateUpdate(_ object: JSON, old: JSON) -> [FieldError] {
        WorkloadTemplates.validate(object) + WorkloadTemplates.validateSelectorUnchanged(object, old: old)
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Desired", type: "integer"), TableColumn("Current", type: "integer"), TableColumn("Ready", type: "integer"),
         TableColumn("Up-to-date", type: "integer"), TableColumn("Available", type: "integer"), TableColumn("Node Selector"), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let selector = (object[path: ["spec", "template", "spec", "nodeSelector"]]?.stringMap ?? [:])
            .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return [.string(object.name)]
            + ["desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled", "numberAvailable"]
                .map { JSON.int(WorkloadTemplates.count(object, ["status", $0])) }
            + [.string(selector.isEmpty ? "<none>" : selector), .string(Age.since(object.creationTimestamp, now: now))]
    }
}

struct JobStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        WorkloadTemplates.defaultTemplate(&object)
        var spec = object["spec"] ?? [:]
        setIfAbsent(&spec, "parallelism", 1)
        setIfAbsent(&spec, "completions", 1)
        setIfAbsent(&spec, "backoffLimit", 6)
        setIfAbsent(&spec, "completionMode", "NonIndexed")
        setIfAbsent(&spec, "suspend", false)
        setIfAbsent(&spec, "podReplacementPolicy", "TerminatingOrFailed")
        object["spec"] = spec
        // A job labels its pods with its own uid; the selector is generated on create.
    }

    func prepareForCreate(_ object: inout JSON) {
        guard object[path: ["spec", "manualSelector"]]?.bool != true, let uid = object.uid else { return }
        let labels: [String: String] = ["batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": object.name,
                                        "controller-uid": uid, "job-name": object.name]
        object[path: ["spec", "selector"]] = ["matchLabels": ["batch.kubernetes.io/controller-uid": .string(uid)]]
        var templateLabels = object[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        templateLabels.merge(labels) { $1 }
        object[path: ["spec", "template", "metadata", "labels"]] = .strings(templateLabels)
    }

    func validate(_ object: JSON) -> [FieldError] {
        var errors = WorkloadTemplates.validate(object, needsSelector: false)
        if let policy = object[path: ["spec", "template", "spec", "restartPolicy"]]?.string, policy == "Always" {
            errors.append(.notSupported("spec.template.spec.restartPolicy", .string(policy), ["OnFailure", "Never"]))
        }
        return errors
    }


    var columns: [TableColumn] {
        [.name, TableColumn("Status"), TableColumn("Completions"), TableColumn("Duration"), .age,
         TableColumn("Containers", priority: 1), TableColumn("Images", priority: 1), TableColumn("Selector", priority: 1)]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let succeeded = WorkloadTemplates.count(object, ["status", "succeeded"])
        let completions = object[path: ["spec", "completions"]]?.int.map(String.init) ?? "1"
        let conditions = object[path: ["status", "conditions"]]?.array ?? []
        let status = conditions.first { $0["status"]?.string == "True" }?["type"]?.string ?? "Running"
        let start = object[path: ["status", "startTime"]]?.string.flatMap(Timestamps.parse)
        let end = object[path: ["status", "completionTime"]]?.string.flatMap(Timestamps.parse) ?? now
        let containers = WorkloadTemplates.containers(object)
        return [.string(object.name), .string(status), .string("\(succeeded)/\(completions)"),
                .string(start.map { Age.format(end.timeIntervalSince($0)) } ?? ""),
                .string(Age.since(object.creationTimestamp, now: now)),
                .string(containers.names), .string(containers.images), .string(WorkloadTemplates.selectorText(object))]
    }
}

struct CronJobStrategy: ResourceStrategy {
    var hasStatus: Bool { true }

    func applyDefaults(_ object: inout JSON) {
        var spec = object["spec"] ?? [:]
        setIfAbsent(&spec, "concurrencyPolicy", "Allow")
        setIfAbsent(&spec, "suspend", false)
        setIfAbsent(&spec, "successfulJobsHistoryLimit", 3)
        setIfAbsent(&spec, "failedJobsHistoryLimit", 1)
        if var template = spec[path: ["jobTemplate", "spec", "template", "spec"]] {
            PodDefaults.apply(toSpec: &template)
            spec[path: ["jobTemplate", "spec", "template", "spec"]] = template
        }
        object["spec"] = spec
    }

    func validate(_ object: JSON) -> [FieldError] {
        let schedule = object[path: ["spec", "schedule"]]?.string ?? ""
        var errors: [FieldError] = schedule.isEmpty ? [.required("spec.schedule")] : []
        if !schedule.isEmpty, !schedule.hasPrefix("@"), schedule.split(separator: " ").count != 5 {
            errors.append(.invalid("spec.schedule", .string(schedule), "unparseable cron expression"))
        }
        if object[path: ["spec", "jobTemplate"]] == nil { errors.append(.required("spec.jobTemplate")) }
        return errors
    }

    var columns: [TableColumn] {
        [.name, TableColumn("Schedule"), TableColumn("Timezone"), TableColumn("Suspend", type: "boolean"),
         TableColumn("Active", type: "integer"), TableColumn("Last Schedule"), .age]
    }

    func cells(_ object: JSON, now: Date) -> [JSON] {
        let last = object[path: ["status", "lastScheduleTime"]]?.string.flatMap(Timestamps.parse)
        return [.string(object.name), .string(object[path: ["spec", "schedule"]]?.string ?? ""),
                .string(object[path: ["spec", "timeZone"]]?.string ?? "<none>"),
                .bool(object[path: ["spec", "suspend"]]?.bool ?? false),
                .int(Int64(object[path: ["status", "active"]]?.array?.count ?? 0)),
                .string(last.map { Age.since($0, now: now) } ?? "<none>"), .string(Age.since(object.creationTimestamp, now: now))]
    }
}
