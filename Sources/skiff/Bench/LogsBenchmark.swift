import CloudWatchLogs
import Foundation

/// `skiff bench logs`: CloudWatch Logs' FilterLogEvents and GetLogEvents over one large stream (the issue's
/// target: 100,000 events filtered in under 100 ms), and PutLogEvents batches per second.
struct LogsBenchmark {
    let directory: URL
    let events: Int

    func run() async throws {
        let logs = try LogsService(directory: directory.appendingPathComponent("logs-\(UUID())"), region: "us-east-1", account: "000000000000")
        try await logs.createLogGroup(name: "/aws/eks/bench/cluster")
        try await logs.createLogStream(group: "/aws/eks/bench/cluster", name: "kube-apiserver-audit-bench")
        let start = LogsService.now() - Int64(events)
        let batch = 1_000
        let putStart = ContinuousClock.now
        for first in stride(from: 0, to: events, by: batch) {
            let batchEvents = (first..<min(first + batch, events)).map { index in
                InputLogEvent(timestamp: start + Int64(index), message: Self.auditLine(index))
            }
            _ = try await logs.putLogEvents(group: "/aws/eks/bench/cluster", stream: "kube-apiserver-audit-bench", events: batchEvents,
                                            now: start + Int64(events))
        }
        let putSeconds = Self.seconds(ContinuousClock.now - putStart)
        print(BenchOutput.json([("scenario", "put_log_events"), ("events", events), ("batch", batch),
                                ("events_per_sec", (Double(events) / putSeconds).rounded())]))
        // Searched before the text index has caught up (every event read), then after.
        try await filters(logs, indexed: false)
        let indexStart = ContinuousClock.now
        while try await logs.indexPendingEvents() > 0 {}
        print(BenchOutput.json([("scenario", "index_log_events"), ("events", events),
                                ("events_per_sec", (Double(events) / Self.seconds(ContinuousClock.now - indexStart)).rounded())]))
        try await filters(logs, indexed: true)
        let began = ContinuousClock.now
        let page = try await logs.getLogEvents(group: "/aws/eks/bench/cluster", stream: "kube-apiserver-audit-bench", start: nil, end: nil,
                                               nextToken: nil, limit: 10_000, startFromHead: nil)
        print(BenchOutput.json([("scenario", "get_log_events"), ("events", page.events.count),
                                ("ms", (Self.seconds(ContinuousClock.now - began) * 1e5).rounded() / 100)]))
    }

    func filters(_ logs: LogsService, indexed: Bool) async throws {
        for (name, pattern) in [("none_match_term", "nosuchterm"), ("term_1_in_1000", "needle"), ("phrase", "\"user-agent kubectl/v1.34.1 needle\""),
                                ("json_selector", "{ $.responseStatus.code = 404 && $.verb = \"get\" }")] {
            var samples: [Double] = []
            var matched = 0
            for _ in 0..<5 {
                let began = ContinuousClock.now
                let page = try await logs.filterLogEvents(group: "/aws/eks/bench/cluster", streamNames: nil, streamPrefix: nil, start: nil,
                                                          end: nil, pattern: pattern, nextToken: nil, limit: nil)
                samples.append(Self.seconds(ContinuousClock.now - began))
                matched = page.events.count
            }
            samples.sort()
            print(BenchOutput.json([("scenario", "filter_log_events"), ("pattern", name), ("indexed", indexed), ("events", events),
                                    ("matched", matched), ("p50_ms", (samples[2] * 1e5).rounded() / 100), ("max_ms", (samples[4] * 1e5).rounded() / 100)]))
        }
    }

    /// An audit event as kube-apiserver writes one: one in a thousand mentions the needle, one in ten is a 404.
    static func auditLine(_ index: Int) -> String {
        let code = index % 10 == 0 ? 404 : 200
        let agent = index % 1000 == 0 ? "kubectl/v1.34.1 needle" : "kubectl/v1.34.1"
        return #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"\#(UUID().uuidString.lowercased())","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/web-\#(index)","verb":"get","user":{"username":"kubernetes-admin","groups":["system:masters","system:authenticated"]},"sourceIPs":["127.0.0.1"],"userAgent":"user-agent \#(agent)","objectRef":{"resource":"pods","namespace":"default","name":"web-\#(index)","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":\#(code)},"requestReceivedTimestamp":"2026-12-01T15:04:05.123456Z","stageTimestamp":"2026-12-01T15:04:05.124456Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}"#
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
