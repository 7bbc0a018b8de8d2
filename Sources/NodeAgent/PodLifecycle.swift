import Foundation
import KubeModel

/// What a simulated container does, as annotations on the pod decide (there is no process to decide it):
///
/// - `skiff.dev/run-seconds`: how long containers run before they exit (default: forever for
///   `restartPolicy: Always`, 1 second otherwise);
/// - `skiff.dev/exit-code`: the exit code they exit with (default 0).
public enum SimulatedContainers {
    public static let runSecondsAnnotation = "skiff.dev/run-seconds"
    public static let exitCodeAnnotation = "skiff.dev/exit-code"

    /// How long the pod's containers run, or nil for as long as the pod exists.
    static func runTime(_ pod: Pod) -> TimeInterval? {
        if let text = pod.object.annotations[runSecondsAnnotation], let seconds = TimeInterval(text) { return seconds }
        return (pod.object[path: ["spec", "restartPolicy"]]?.string ?? "Always") == "Always" ? nil : 1
    }

    static func exitCode(_ pod: Pod) -> Int64 { Int64(pod.object.annotations[exitCodeAnnotation] ?? "") ?? 0 }

    /// The status a kubelet reports while the pod's sandbox and containers are being created.
    static func creating(_ pod: Pod, hostIP: String, now: Date) -> JSON {
        var status = pod.object["status"] ?? [:]
        status["phase"] = "Pending"
        status["hostIP"] = .string(hostIP)
        status["hostIPs"] = [["ip": .string(hostIP)]]
        status["startTime"] = status["startTime"] ?? .string(Timestamps.format(now))
        var object: JSON = ["status": status]
        object.setCondition(Condition(type: "PodReadyToStartContainers", status: "False"), now: now)
        object.setCondition(Condition(type: "Initialized", status: "True"), now: now)
        object.setCondition(Condition(type: "Ready", status: "False", reason: "ContainersNotReady",
                                      message: "containers with unready status: [\(pod.containers.compactMap { $0["name"]?.string }.joined(separator: " "))]"), now: now)
        object.setCondition(Condition(type: "ContainersReady", status: "False", reason: "ContainersNotReady",
                                      message: "containers with unready status: [\(pod.containers.compactMap { $0["name"]?.string }.joined(separator: " "))]"), now: now)
        object.setCondition(Condition(type: "PodScheduled", status: "True"), now: now)
        object[path: ["status", "containerStatuses"]] = .array(pod.containers.map { container in
            ["name": container["name"] ?? "", "image": container["image"] ?? "", "imageID": "", "ready": false, "restartCount": 0,
             "started": false, "state": ["waiting": ["reason": "ContainerCreating"]], "lastState": [:]]
        })
        return object["status"] ?? [:]
    }

    /// The status once every container runs (init containers completed first).
    static func running(_ pod: Pod, hostIP: String, podIP: String, now: Date) -> JSON {
        let started = Timestamps.format(now)
        var object: JSON = ["status": pod.object["status"] ?? [:]]
        object[path: ["status", "phase"]] = "Running"
        object[path: ["status", "podIP"]] = .string(podIP)
        object[path: ["status", "podIPs"]] = [["ip": .string(podIP)]]
        object[path: ["status", "hostIP"]] = .string(hostIP)
        object[path: ["status", "hostIPs"]] = [["ip": .string(hostIP)]]
        if object[path: ["status", "startTime"]] == nil { object[path: ["status", "startTime"]] = .string(started) }
        let gates = (pod.object[path: ["spec", "readinessGates"]]?.array ?? []).compactMap { $0["conditionType"]?.string }
        let gatesMet = gates.allSatisfy { pod.object.condition($0)?.status == "True" }
        for type in ["PodReadyToStartContainers", "Initialized", "ContainersReady", "PodScheduled"] {
            object.setCondition(Condition(type: type, status: "True"), now: now)
        }
        object.setCondition(gatesMet ? Condition(type: "Ready", status: "True")
            : Condition(type: "Ready", status: "False", reason: "ReadinessGatesNotReady",
                        message: "corresponding condition of pod readiness gate \"\(gates.first { pod.object.condition($0)?.status != "True" } ?? "")\" does not exist."), now: now)
        let restarts = previousRestarts(pod)
        object[path: ["status", "containerStatuses"]] = .array(pod.containers.map { container in
            let name = container["name"]?.string ?? ""
            return ["name": .string(name), "image": container["image"] ?? "", "imageID": .string(imageID(container["image"]?.string ?? "")),
                    "containerID": .string("containerd://" + Identifiers.hex(pod.uid + name + String(restarts[name] ?? 0), count: 64)),
                    "ready": true, "started": true, "restartCount": .int(restarts[name] ?? 0),
                    "state": ["running": ["startedAt": .string(started)]], "lastState": [:]]
        })
        if !pod.initContainers.isEmpty {
            object[path: ["status", "initContainerStatuses"]] = .array(pod.initContainers.map { container in
                let name = container["name"]?.string ?? ""
                return ["name": .string(name), "image": container["image"] ?? "", "imageID": .string(imageID(container["image"]?.string ?? "")),
                        "containerID": .string("containerd://" + Identifiers.hex(pod.uid + name, count: 64)), "ready": true, "restartCount": 0,
                        "started": false,
                        "state": ["terminated": ["exitCode": 0, "reason": "Completed", "startedAt": .string(started), "finishedAt": .string(started)]],
                        "lastState": [:]]
            })
        }
        return object["status"] ?? [:]
    }

    /// The status once the containers have exited with `exitCode` (`Succeeded` for 0, `Failed` otherwise).
    static func exited(_ pod: Pod, exitCode: Int64, now: Date) -> JSON {
        let finished = Timestamps.format(now)
        var object: JSON = ["status": pod.object["status"] ?? [:]]
        object[path: ["status", "phase"]] = .string(exitCode == 0 ? "Succeeded" : "Failed")
        let reason = exitCode == 0 ? "PodCompleted" : "PodFailed"
        for type in ["Ready", "ContainersReady"] { object.setCondition(Condition(type: type, status: "False", reason: reason), now: now) }
        object.setCondition(Condition(type: "PodReadyToStartContainers", status: "False"), now: now)
        let statuses = (object[path: ["status", "containerStatuses"]]?.array ?? []).map { status -> JSON in
            var status = status
            let startedAt = status[path: ["state", "running", "startedAt"]] ?? .string(finished)
            status["state"] = ["terminated": ["exitCode": .int(exitCode), "reason": .string(exitCode == 0 ? "Completed" : "Error"),
                                              "startedAt": startedAt, "finishedAt": .string(finished),
                                              "containerID": status["containerID"] ?? ""]]
            status["ready"] = false
            status["started"] = false
            return status
        }
        object[path: ["status", "containerStatuses"]] = .array(statuses)
        return object["status"] ?? [:]
    }

    static func previousRestarts(_ pod: Pod) -> [String: Int64] {
        var restarts: [String: Int64] = [:]
        for status in pod.object[path: ["status", "containerStatuses"]]?.array ?? [] {
            if let name = status["name"]?.string { restarts[name] = status["restartCount"]?.int ?? 0 }
        }
        return restarts
    }

    /// The digest a registry would report for the image, derived from its name (no registry is asked).
    static func imageID(_ image: String) -> String {
        let repository = image.split(separator: "@").first.map { String($0.split(separator: ":").first ?? $0) } ?? image
        let qualified = repository.contains("/") ? repository : "docker.io/library/\(repository)"
        return "\(qualified)@sha256:\(Identifiers.hex(image, count: 64))"
    }
}
