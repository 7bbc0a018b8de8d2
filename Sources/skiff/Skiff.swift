import ArgumentParser
import Auth
import ClusterRuntime
import EtcdStore
import Foundation
import Logging
import RegionStore
import SkiffServer
import KubeModel

@main
struct Skiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Amazon EKS on your own machines.",
        subcommands: [Up.self, Kubeconfig.self, IAM.self, Bench.self, Debug.self])
}

struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where Skiff keeps its state.")
    var path: String = ".skiff"

    var url: URL { URL(fileURLWithPath: path, isDirectory: true) }
}

/// A command that cannot go on: ArgumentParser prints `Error: <description>` and exits 1, without the usage.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the regional endpoint until SIGINT or SIGTERM.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 4566
    @OptionGroup var dataDir: DataDirOption
    @Option(help: "The AWS region this endpoint serves.") var region = "us-east-1"
    @Option(name: .customLong("provisioning-delay"),
            help: "Seconds that creating, deleting and updating clusters and node groups take (0: done by the next request).")
    var provisioningDelay: Double = 0
    @Option(name: .customLong("history-retention"),
            help: "Seconds of past revisions each cluster's store keeps for watches and continue tokens before compacting them.")
    var historyRetention: Double = 300
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "notice"
    @Flag(name: .customLong("accept-any-access-key"),
          help: "Accept requests signed with any unknown access key id, without checking the signature, as the root of account 000000000000 (or of the account a 12-digit key id names).")
    var acceptAnyAccessKey = false
    @Option(name: .customLong("audit-log-maxsize"), help: "Megabytes of audit log each cluster keeps before rotating it.")
    var auditLogMaxSize = 100
    @Option(name: .customLong("audit-log-maxbackup"), help: "How many rotated audit logs each cluster keeps.")
    var auditLogMaxBackup = 1
    @Option(name: .customLong("advertise-address"),
            help: "The address clusters' endpoints and serving certificates name, e.g. a TCP load balancer in front of several replicas (default: --host).")
    var advertiseAddress: String?
    @Option(help: "Keep the region's records and the clusters' objects in etcd: etcd://HOST:PORT[,HOST:PORT…] (default: SQLite in the data dir).")
    var store: String?
    @Option(name: .customLong("etcd-cafile"), help: "The CA of the etcd members' serving certificates (TLS to etcd).")
    var etcdCAFile: String?
    @Option(name: .customLong("etcd-certfile"), help: "The client certificate etcd asks for.") var etcdCertFile: String?
    @Option(name: .customLong("etcd-keyfile"), help: "The key of --etcd-certfile.") var etcdKeyFile: String?
    @Option(name: .customLong("trusted-ca-file"),
            help: "PEM CA certificates trusted, besides the system's, when fetching OIDC identity providers' discovery documents and keys.")
    var trustedCAFile: String?

    func validate() throws {
        guard auditLogMaxSize > 0 else { throw ValidationError("--audit-log-maxsize must be positive.") }
        guard auditLogMaxBackup >= 0 else { throw ValidationError("--audit-log-maxbackup cannot be negative.") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard provisioningDelay >= 0 else { throw ValidationError("--provisioning-delay cannot be negative.") }
        guard historyRetention > 0 else { throw ValidationError("--history-retention must be positive.") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel).") }
        if store == nil, etcdCAFile != nil || etcdCertFile != nil || etcdKeyFile != nil {
            throw ValidationError("--etcd-cafile, --etcd-certfile and --etcd-keyfile go with --store etcd://….")
        }
        for file in [etcdCAFile, etcdCertFile, etcdKeyFile, trustedCAFile].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw ValidationError("cannot read \(file).")
        }
        if let store {
            do {
                _ = try EtcdEndpoints(url: store, caFile: etcdCAFile, certFile: etcdCertFile, keyFile: etcdKeyFile)
            } catch {
                throw ValidationError("--store \(error)")
            }
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var configuration = SkiffConfiguration(host: host, port: port, dataDirectory: dataDir.url, region: region,
                                               provisioningDelay: provisioningDelay, historyRetention: historyRetention,
                                               acceptAnyAccessKey: acceptAnyAccessKey, auditLogMaxSize: auditLogMaxSize,
                                               auditLogMaxBackup: auditLogMaxBackup, advertiseAddress: advertiseAddress)
        configuration.trustedCertificatesPEM = try trustedCAFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
        // etcd is checked before anything is written: an unreachable or foreign store stops the start here.
        if let store {
            let endpoints = try EtcdEndpoints(url: store, caFile: etcdCAFile, certFile: etcdCertFile, keyFile: etcdKeyFile)
            do {
                let storage = try await ClusterStorage.connect(endpoints, region: region)
                configuration.clusterStorage = storage
                if case .etcd(let client, let root) = storage {
                    configuration.regionRecords = try await EtcdRecordEngine(client: client, root: root)
                    configuration.kmsRootKey = Data(try await client.createIfAbsent(Array("\(root)/kms-root.key".utf8),
                                                                                    value: (0..<32).map { _ in UInt8.random(in: 0...255) }))
                    var election = EtcdLeaderElection(client: client, key: "\(root)/leaders/eks-provisioner", identity: configuration.identity)
                    election.logger = Logger(label: "skiff")
                    let elected = election
                    configuration.replication = Replication(provisioner: { work in await elected.run(work) })
                }
            } catch {
                throw CommandFailure("cannot use the etcd store \(endpoints.description): \(error)")
            }
        }
        let server = try SkiffServer(configuration: configuration, logger: Logger(label: "skiff"))
        try await server.run()
    }
}

struct IAM: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the credentials Skiff accepts.",
                                                    subcommands: [CreateAccessKey.self])

    struct CreateAccessKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-access-key",
            abstract: "Create an access key pair for an IAM user (created if new) and print it as `aws iam create-access-key` does.")

        @Option(help: "The IAM user the key signs as.") var user: String
        @OptionGroup var dataDir: DataDirOption

        func run() throws {
            let store = CredentialStore(database: try RegionDatabase(directory: dataDir.url))
            let key = try store.createAccessKey(userName: user)
            let output: [String: [String: String]] = ["AccessKey": [
                "UserName": user,
                "AccessKeyId": key.accessKeyId,
                "Status": "Active",
                "SecretAccessKey": key.secretAccessKey,
                "CreateDate": key.createdAt.formatted(.iso8601),
            ]]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        }
    }
}
