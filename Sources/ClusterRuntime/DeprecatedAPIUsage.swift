import EKS
import Foundation
import KubeModel

/// Who called deprecated API versions, read from the audit log as EKS's upgrade insights read it: the events
/// kube-apiserver marked `k8s.io/deprecated`, one per completed request, per version and user agent.
enum DeprecatedAPIUsage {
    static func calls(inAuditLines lines: [String], since: Date) -> [DeprecatedAPICalls] {
        struct Key: Hashable { let group: String, version: String, resource: String, userAgent: String }
        var found: [Key: (count: Int, last: Date)] = [:]
        for line in lines where line.contains("\"k8s.io/deprecated\"") {
            guard let event = try? JSONCoding.decode(Array(line.utf8)),
                  event[path: ["annotations", "k8s.io/deprecated"]]?.string == "true",
                  event["stage"]?.string == "ResponseComplete",
                  let received = event["requestReceivedTimestamp"]?.string.flatMap(Timestamps.parseMicro), received >= since,
                  let ref = event["objectRef"] else { continue }
            let key = Key(group: ref["apiGroup"]?.string ?? "", version: ref["apiVersion"]?.string ?? "",
                          resource: ref["resource"]?.string ?? "", userAgent: event["userAgent"]?.string ?? "")
            let previous = found[key] ?? (0, received)
            found[key] = (previous.count + 1, max(previous.last, received))
        }
        return found.map { key, value in
            DeprecatedAPICalls(group: key.group, version: key.version, resource: key.resource, userAgent: key.userAgent,
                               count: value.count, lastRequestTime: value.last)
        }.sorted { ($0.resource, $0.userAgent) < ($1.resource, $1.userAgent) }
    }
}
