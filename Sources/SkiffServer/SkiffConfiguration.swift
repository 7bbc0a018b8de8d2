import ClusterRuntime
import EKS
import Foundation
import RegionStore

/// How `skiff up` runs.
public struct SkiffConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; the log line "Skiff listening on …" names it.
    public var port: Int
    public var dataDirectory: URL
    public var region: String
    /// Seconds that creating, deleting and updating EKS resources take.
    public var provisioningDelay: TimeInterval
    /// Seconds of history each cluster's store keeps before compaction (about five minutes, as a real API server's etcd).
    public var historyRetention: TimeInterval
    /// `--accept-any-access-key`: unknown access key ids sign, unverified, as an account's root (for CI scripts with made-up keys).
    public var acceptAnyAccessKey: Bool
    /// `--audit-log-maxsize` (megabytes) and `--audit-log-maxbackup`: how much audit log each cluster keeps on disk.
    public var auditLogMaxSize: Int
    public var auditLogMaxBackup: Int
    /// `--store`: where the clusters' objects are kept (SQLite files in the data dir unless etcd is named).
    public var clusterStorage: ClusterStorage
    /// `--advertise-address`: the address clusters' endpoints and serving certificates name (a load balancer in
    /// front of several replicas); nil names `host`.
    public var advertiseAddress: String?
    /// With replicas sharing one region (`--store etcd://…`): how this one takes part.
    public var replication: Replication?
    /// With `--store etcd://…`, KMS's root key, shared by the replicas (nil: `kms-root.key` in the data dir).
    public var kmsRootKey: Data?
    /// With `--store etcd://…`, the region's records too (nil: the data dir's `region.sqlite`).
    public var regionRecords: (any RecordEngine)?
    /// PEM CA certificates trusted for outgoing HTTPS besides the system's (`--trusted-ca-file`): the discovery
    /// documents and keys of OIDC identity providers with an in-house CA.
    public var trustedCertificatesPEM: String?

    public init(host: String = "127.0.0.1", port: Int = 4566, dataDirectory: URL, region: String = "us-east-1",
                provisioningDelay: TimeInterval = 0, historyRetention: TimeInterval = 300, acceptAnyAccessKey: Bool = false,
                auditLogMaxSize: Int = 100, auditLogMaxBackup: Int = 1, clusterStorage: ClusterStorage = .sqlite,
                regionRecords: (any RecordEngine)? = nil, advertiseAddress: String? = nil, replication: Replication? = nil,
                kmsRootKey: Data? = nil) {
        self.kmsRootKey = kmsRootKey
        self.replication = replication
        self.advertiseAddress = advertiseAddress
        self.clusterStorage = clusterStorage
        self.regionRecords = regionRecords
        self.auditLogMaxSize = auditLogMaxSize
        self.auditLogMaxBackup = auditLogMaxBackup
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.region = region
        self.provisioningDelay = provisioningDelay
        self.historyRetention = historyRetention
        self.acceptAnyAccessKey = acceptAnyAccessKey
    }

    /// The address this replica's cluster API servers listen on: `host`, or loopback when `host` is every address.
    public var apiHost: String { host == "0.0.0.0" ? "127.0.0.1" : host }

    /// This replica's name in leader elections: stable across its restarts, distinct between replicas of one machine.
    public var identity: String { "\(ProcessInfo.processInfo.hostName)_\(apiHost)" }
}

/// How a replica takes part in a region it shares with others.
public struct Replication: Sendable {
    /// Runs the EKS provisioner while this replica leads the region's election for it.
    public var provisioner: EKSProvisioner.Leadership

    public init(provisioner: @escaping EKSProvisioner.Leadership) {
        self.provisioner = provisioner
    }
}
