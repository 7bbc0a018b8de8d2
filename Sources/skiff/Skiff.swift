import ArgumentParser
import Auth
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

    func validate() throws {
        guard auditLogMaxSize > 0 else { throw ValidationError("--audit-log-maxsize must be positive.") }
        guard auditLogMaxBackup >= 0 else { throw ValidationError("--audit-log-maxbackup cannot be negative.") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard provisioningDelay >= 0 else { throw ValidationError("--provisioning-delay cannot be negative.") }
        guard historyRetention > 0 else { throw ValidationError("--history-retention must be positive.") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel).") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let server = try SkiffServer(
            configuration: SkiffConfiguration(host: host, port: port, dataDirectory: dataDir.url, region: region,
                                              provisioningDelay: provisioningDelay, historyRetention: historyRetention,
                                              acceptAnyAccessKey: acceptAnyAccessKey, auditLogMaxSize: auditLogMaxSize,
                                              auditLogMaxBackup: auditLogMaxBackup),
            logger: Logger(label: "skiff"))
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
