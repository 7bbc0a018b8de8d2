import CoreMetrics
import Foundation

/// kube-apiserver's request metrics, through swift-metrics: `apiserver_request_total`,
/// `apiserver_request_duration_seconds` and `apiserver_current_inflight_requests`, with kube-apiserver's
/// names and labels; the exposition (`/metrics`) is the backend's, given by whoever made the factory.
public final class APIMetrics: Sendable {
    /// Where the API server's other parts (the store's timings) record theirs.
    public let factory: any MetricsFactory
    private let exposition: @Sendable () -> [UInt8]
    private let readOnlyInflight: Meter
    private let mutatingInflight: Meter

    /// - Parameter exposition: the metrics in Prometheus' text format, read when `/metrics` is asked for.
    public init(factory: any MetricsFactory, exposition: @escaping @Sendable () -> [UInt8]) {
        self.factory = factory
        self.exposition = exposition
        readOnlyInflight = Meter(label: "apiserver_current_inflight_requests", dimensions: [("request_kind", "readOnly")], factory: factory)
        mutatingInflight = Meter(label: "apiserver_current_inflight_requests", dimensions: [("request_kind", "mutating")], factory: factory)
    }

    func started(method: String) -> Meter {
        let meter = ["GET", "HEAD", "OPTIONS"].contains(method) ? readOnlyInflight : mutatingInflight
        meter.increment()
        return meter
    }

    func finished(_ record: AuditRecord.State, request: APIRequest, status: Int, elapsed: Duration, inflight: Meter) {
        inflight.decrement()
        let verb = record.verb.map { $0.uppercased() == "WATCH" ? "WATCH" : $0.uppercased() } ?? request.method
        let ref = record.objectRef
        let scope = ref.map { $0.name != nil ? "resource" : ($0.namespace != nil ? "namespace" : "cluster") } ?? ""
        let labels: [(String, String)] = [
            ("component", "apiserver"), ("dry_run", request.query["dryRun"] == "All" ? "All" : ""), ("group", ref?.group ?? ""),
            ("resource", ref?.resource ?? ""), ("scope", scope), ("subresource", ref?.subresource ?? ""), ("verb", Self.verb(verb, ref: ref)),
            ("version", ref?.version ?? ""),
        ]
        Counter(label: "apiserver_request_total", dimensions: [("code", String(status))] + labels, factory: factory).increment()
        Timer(label: "apiserver_request_duration_seconds", dimensions: labels, factory: factory).record(elapsed)
    }

    /// kube-apiserver's verbs as its metrics name them: `LIST`, `GET`, `WATCH`, `POST`, `PUT`, `PATCH`, `DELETE`, `APPLY`.
    static func verb(_ verb: String, ref: AuditRecord.ObjectRef?) -> String {
        switch verb {
        case "CREATE": "POST"
        case "UPDATE": "PUT"
        case "DELETECOLLECTION", "DELETE": "DELETE"
        default: verb
        }
    }

    func render(storedObjects: [String: Int]) -> [UInt8] {
        for (resource, count) in storedObjects {
            Gauge(label: "apiserver_storage_objects", dimensions: [("resource", resource)], factory: factory).record(count)
        }
        return exposition()
    }
}

extension CoreMetrics.Timer {
    /// Records a measured `Duration`.
    func record(_ elapsed: Duration) {
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
