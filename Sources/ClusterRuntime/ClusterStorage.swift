import EtcdStore
import Foundation
import KubeClient
import ServiceLifecycle
import KubeAPI
import KubeStore

/// Where each cluster's Kubernetes objects are kept: a SQLite file in the cluster's directory (the default),
/// or a prefix of an etcd cluster that many Skiff clusters (and regions) share.
public enum ClusterStorage: Sendable {
    case sqlite
    /// Clusters under `<root>/clusters/<name>`; `root` is `/skiff/<region>`.
    case etcd(EtcdClient, root: String)

    /// The layout of the keys under a region's root this Skiff writes and reads; a newer one refuses to start.
    static let etcdLayout = 1
    /// Shared by every store on the etcd cluster: etcd's compaction is global, so is its record.
    static let etcdCompactionKey = "/skiff/compact_rev_key"

    /// Connects to etcd and checks it can serve this region: it answers within `timeout`, and the region's keys
    /// (if any) are of a layout this Skiff knows. Nothing is written before both hold.
    public static func connect(_ endpoints: EtcdEndpoints, region: String, timeout: Duration = .seconds(5)) async throws -> ClusterStorage {
        let client = try EtcdClient(endpoints: endpoints)
        do {
            _ = try await client.status(timeout: timeout)
            let root = "/skiff/\(region)"
            let layoutKey = Array("\(root)/layout".utf8)
            if let found = try await client.get(layoutKey).flatMap({ Int(String(decoding: $0, as: UTF8.self)) }) {
                guard found <= etcdLayout else { throw EtcdError.newerLayout(found: found, known: etcdLayout) }
            } else {
                _ = try await client.put(layoutKey, value: Array(String(etcdLayout).utf8))
            }
            return .etcd(client, root: root)
        } catch {
            client.close()
            throw error
        }
    }

    /// Where a cluster's keys live on etcd: its objects, and beside them (outside `/registry`) its signing key.
    static func etcdPrefix(root: String, clusterName: String) -> String { "\(root)/clusters/\(clusterName)" }

    static func etcdStore(_ client: EtcdClient, root: String, clusterName: String) -> EtcdKubeStore {
        EtcdKubeStore(client: client, prefix: etcdPrefix(root: root, clusterName: clusterName), compactionKey: etcdCompactionKey)
    }

    /// Opens a cluster's store; `isNew` when it holds nothing yet (the cluster's first start).
    func open(clusterName: String, directory: URL, secureDelete: Bool) async throws -> (store: any KubeStore, isNew: Bool) {
        switch self {
        case .sqlite:
            let path = directory.appendingPathComponent("cluster.sqlite").path
            let isNew = !FileManager.default.fileExists(atPath: path)
            return (try SQLiteKubeStore(path: path, secureDelete: secureDelete), isNew)
        case .etcd(let client, let root):
            let store = Self.etcdStore(client, root: root, clusterName: clusterName)
            return (store, try await store.isEmpty())
        }
    }

    /// The key that signs the cluster's service-account tokens (kube-apiserver's `--service-account-key-file`),
    /// made on its first start: a file beside the SQLite store, or on etcd beside the cluster's objects, so that
    /// every replica signs and verifies with the same key.
    func serviceAccountKey(clusterName: String, directory: URL) async throws -> String {
        switch self {
        case .sqlite:
            let file = directory.appendingPathComponent("service-account.key")
            if let pem = try? String(contentsOf: file, encoding: .utf8) { return pem }
            let pem = try ServiceAccountIssuer.generatePrivateKeyPEM()
            try Data(pem.utf8).write(to: file, options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
            return pem
        case .etcd(let client, let root):
            let key = Array("\(Self.etcdPrefix(root: root, clusterName: clusterName))/skiff/service-account.key".utf8)
            if let pem = try await client.get(key) { return String(decoding: pem, as: UTF8.self) }
            let made = try ServiceAccountIssuer.generatePrivateKeyPEM()
            return String(decoding: try await client.createIfAbsent(key, value: Array(made.utf8)), as: UTF8.self)
        }
    }

    /// Scrubs the history that still holds what was rewritten (Secrets newly sealed). SQLite drops it now, with
    /// secure deletion; on etcd, whose compaction is global to every cluster on it, the compactor drops it after
    /// the history retention, as it drops everything else.
    func scrubHistory(_ store: any KubeStore) async throws {
        guard case .sqlite = self else { return }
        try await store.compact(through: try await store.currentRevision())
    }

    /// Whether each cluster's control plane compacts its own store (SQLite); on etcd, compaction is global to the
    /// etcd cluster, so one compactor does it for all (`regionServices`).
    var compactsPerCluster: Bool {
        if case .sqlite = self { return true }
        return false
    }

    /// How the cluster's components hold their Leases: on SQLite this process is the only candidate there is.
    var leaseTiming: LeaseTiming {
        if case .sqlite = self { return .soleCandidate }
        return .kube
    }

    /// The work the storage needs once for the whole region: on etcd, the compactor, run by whichever replica
    /// leads its election (`/skiff/leaders/compactor`, shared by every region on the etcd cluster).
    public func regionServices(identity: String, historyRetention: TimeInterval) -> [any Service] {
        guard case .etcd(let client, _) = self else { return [] }
        return [EtcdCompactor(election: EtcdLeaderElection(client: client, key: "/skiff/leaders/compactor", identity: identity),
                              store: EtcdKubeStore(client: client, prefix: "/skiff", compactionKey: Self.etcdCompactionKey),
                              retention: historyRetention)]
    }

    /// Removes a cluster's objects (the cluster is deleted).
    func remove(clusterName: String, directory: URL) async {
        if case .etcd(let client, let root) = self {
            try? await Self.etcdStore(client, root: root, clusterName: clusterName).deleteAll()
        }
    }

    public var description: String {
        switch self {
        case .sqlite: "sqlite"
        case .etcd(let client, let root): "\(client.endpoints.description)\(root)"
        }
    }
}

/// Compacts etcd, keeping `retention` of history, while this replica leads the compactor's election.
struct EtcdCompactor: Service {
    let election: EtcdLeaderElection
    let store: EtcdKubeStore
    let retention: TimeInterval

    func run() async throws {
        let compactor = StoreCompactor(store: store, retention: retention)
        await cancelWhenGracefulShutdown { await election.run { await compactor.compactWhileRunning() } }
    }
}
