import Crypto
import EKS
import Foundation
import KubeAPI
import Logging
import Prometheus
import ServiceLifecycle

/// How every cluster keeps its control-plane logs, and where the types it enables are shipped.
public struct ControlPlaneLogging: Sendable {
    /// Ships a batch of one cluster's log lines to its CloudWatch Logs stream (`/aws/eks/NAME/cluster`).
    public typealias Ship = @Sendable (_ cluster: String, _ stream: String, _ events: [(timestamp: Int64, line: String)]) async -> Void

    /// `--audit-log-maxsize`, in bytes, and `--audit-log-maxbackup`: the audit log's bound on disk.
    public var auditMaxBytes: Int
    public var auditMaxBackups: Int
    public var ship: Ship?

    public init(auditMaxBytes: Int = 100 << 20, auditMaxBackups: Int = 1, ship: Ship? = nil) {
        self.auditMaxBytes = auditMaxBytes
        self.auditMaxBackups = auditMaxBackups
        self.ship = ship
    }
}

/// The five logs of one cluster's control plane, each in `logs/` whatever the cluster enables, and named for
/// CloudWatch as EKS names its streams: `kube-apiserver-ID`, `kube-apiserver-audit-ID`, `authenticator-ID`,
/// `kube-controller-manager-ID`, `kube-scheduler-ID`, one ID per control-plane instance.
final class ControlPlaneLogs: Sendable {
    let api: ControlPlaneLog
    let audit: ControlPlaneLog
    let authenticator: ControlPlaneLog
    let controllerManager: ControlPlaneLog
    let scheduler: ControlPlaneLog
    /// The instance's id in stream names: 32 hex digits, stable for a cluster on one host.
    let instanceId: String

    init(directory: URL, clusterName: String, identity: String, settings: ControlPlaneLogging) throws {
        api = try ControlPlaneLog(directory: directory, name: "kube-apiserver")
        audit = try ControlPlaneLog(directory: directory, name: "kube-apiserver-audit", maxBytes: settings.auditMaxBytes,
                                    maxBackups: settings.auditMaxBackups)
        authenticator = try ControlPlaneLog(directory: directory, name: "authenticator")
        controllerManager = try ControlPlaneLog(directory: directory, name: "kube-controller-manager")
        scheduler = try ControlPlaneLog(directory: directory, name: "kube-scheduler")
        instanceId = SHA256.hash(data: Data("\(clusterName)/\(identity)".utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    var byType: [(type: LogType, log: ControlPlaneLog, stream: String)] {
        let logs: [(LogType, ControlPlaneLog, String)] = [
            (.api, api, "kube-apiserver"), (.audit, audit, "kube-apiserver-audit"), (.authenticator, authenticator, "authenticator"),
            (.controllerManager, controllerManager, "kube-controller-manager"), (.scheduler, scheduler, "kube-scheduler"),
        ]
        return logs.map { (type: $0.0, log: $0.1, stream: "\($0.2)-\(instanceId)") }
    }

    /// Ships from now on exactly the types enabled.
    func enable(_ types: Set<LogType>) {
        for entry in byType { entry.log.ship(types.contains(entry.type)) }
    }

    func close() {
        for entry in byType { entry.log.close() }
    }

    /// A logger that writes, besides wherever `logger` goes, klog lines to `log`.
    static func logger(_ logger: Logger, writingTo log: ControlPlaneLog) -> Logger {
        var combined = logger
        combined.handler = MultiplexLogHandler([logger.handler, KlogHandler(log: log)])
        return combined
    }
}

extension ControlPlaneLog: AuditBackend {
    public func record(_ line: [UInt8]) { append(bytes: line) }
}

/// swift-log into klog's text format, as the Kubernetes components write their logs:
/// `I1201 15:04:05.123456    4242 file.swift:88] "message" key="value"`.
struct KlogHandler: LogHandler {
    let log: ControlPlaneLog
    var metadata: Logger.Metadata = [:]
    /// The components log at klog's `-v=2`: info and above.
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static let pid = ProcessInfo.processInfo.processIdentifier

    func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let severity = switch level {
        case .trace, .debug, .info, .notice: "I"
        case .warning: "W"
        case .error: "E"
        case .critical: "F"
        }
        log.append(Self.line(severity: severity, message: "\(message)", fields: metadata.merging(explicit ?? [:]) { $1 },
                             file: file, line: line))
    }

    static func line(severity: String, message: String, fields: Logger.Metadata, file: String, line: UInt, at date: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let stamp = String(format: "%02d%02d %02d:%02d:%02d.%06d", parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!,
                           parts.nanosecond! / 1000)
        let fileName = file.split(separator: "/").last.map(String.init) ?? file
        var text = "\(severity)\(stamp) \(String(repeating: " ", count: max(0, 7 - String(pid).count)))\(pid) \(fileName):\(line)] \(quoted(message))"
        // Who the message is about goes last; the cluster name is the log's own.
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) where key != "cluster" {
            text += " \(key)=\(quoted("\(value)"))"
        }
        return text
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// Ships the enabled types' new lines every second, and what is left when the control plane stops.
struct LogShipper: Service {
    let clusterName: String
    let logs: ControlPlaneLogs
    let ship: ControlPlaneLogging.Ship

    func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await flush()
            }
        }
        await flush()
    }

    func flush() async {
        for entry in logs.byType {
            let lines = entry.log.takePending()
            if !lines.isEmpty { await ship(clusterName, entry.stream, lines) }
        }
    }
}

/// Each cluster's own Prometheus registry, behind swift-metrics: what its API server's `/metrics` shows.
public enum ControlPlaneMetrics {
    /// kube-apiserver's buckets for request latency, in seconds.
    static let requestDurationBuckets: [Double] = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15,
                                                   20, 30, 45, 60]

    public static func make() -> APIMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        for name in ["apiserver_request_duration_seconds", "etcd_request_duration_seconds"] {
            factory.durationHistogramBuckets[name] = requestDurationBuckets.map { .nanoseconds(Int64($0 * 1e9)) }
        }
        return APIMetrics(factory: factory, exposition: { registry.emitToBuffer() })
    }
}
