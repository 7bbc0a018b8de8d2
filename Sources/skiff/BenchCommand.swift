import ArgumentParser
import Foundation
import KubeModel

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure Skiff; each benchmark prints one JSON line per result.",
                                                    subcommands: [API.self, Store.self, Region.self, Clusters.self, Workloads.self, Logs.self, Serve.self])

    /// `--work-dir`, or a new temporary directory (which the caller removes when done).
    static func workDirectory(_ workDir: String?) throws -> URL {
        let directory = workDir.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("skiff-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The HTTPS layer's server, run by `bench api` as a child process.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(shouldDisplay: false)
        @Option(name: .customLong("work-dir")) var workDir: String

        func run() async throws {
            try await ControlPlaneProcess.serve(directory: URL(fileURLWithPath: workDir))
        }
    }

    struct Workloads: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "One cluster's control plane at work: scheduling, a large Deployment, controllers, heartbeats, memory.")

        @Option(name: .customLong("nodes"), help: "Simulated node counts for the scheduling and deployment runs, comma-separated.")
        var nodeCounts = "100,1000,5000"
        @Option(help: "Pods per scheduling run, and replicas of the large Deployment.") var pods = 10_000
        @Option(name: .customLong("memory-nodes"), help: "Nodes for the heartbeat and memory runs.") var memoryNodes = 5000
        @Option(name: .customLong("memory-pods"), help: "Running pods for the memory run.") var memoryPods = 150_000
        @Option(help: "Which runs, comma-separated: scheduling, deployment, controllers, heartbeats, memory.")
        var scenarios = "scheduling,deployment,controllers,heartbeats,memory"
        @Option(name: .customLong("work-dir"), help: "Where the benchmark's databases go (default: a temporary directory).")
        var workDir: String?

        func run() async throws {
            let directory = try Bench.workDirectory(workDir)
            defer { if workDir == nil { try? FileManager.default.removeItem(at: directory) } }
            let counts = nodeCounts.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            try await WorkloadBenchmark(directory: directory, nodeCounts: counts, pods: pods, memoryNodes: memoryNodes,
                                        memoryPods: memoryPods).run(scenarios: Set(scenarios.split(separator: ",").map(String.init)))
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CloudWatch Logs: PutLogEvents, then FilterLogEvents and GetLogEvents over one large stream.")

        @Option(help: "Events in the stream.") var events = 100_000
        @Option(name: .customLong("work-dir"), help: "Where the benchmark's databases go (default: a temporary directory).")
        var workDir: String?

        func run() async throws {
            let directory = try Bench.workDirectory(workDir)
            defer { if workDir == nil { try? FileManager.default.removeItem(at: directory) } }
            try await LogsBenchmark(directory: directory, events: events).run()
        }
    }

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The store on SQLite and on etcd (one member and three) side by side, raw etcd Puts as the baseline, then the API on each.")

        @Option(help: "Operations per throughput run, shared by the concurrent clients.") var operations = 4000
        @Option(help: "Concurrent client counts, comma-separated.") var clients = "1,8,32"
        @Option(name: .customLong("list-size"), help: "Pods the API run creates and lists.") var listSize = 10_000
        @Option(help: "Backends, comma-separated: sqlite, etcd (one member), etcd3 (three members).") var backends = "sqlite,etcd,etcd3"
        @Flag(name: .customLong("no-https"), help: "Skip the SQLite control plane over HTTPS.") var noHTTPS = false
        @Option(name: .customLong("work-dir"), help: "Where the SQLite databases go (default: a temporary directory).")
        var workDir: String?

        func run() async throws {
            let directory = try Bench.workDirectory(workDir)
            defer { if workDir == nil { try? FileManager.default.removeItem(at: directory) } }
            try await StoreBenchmark(directory: directory, operationsPerRun: operations,
                                     clientCounts: clients.split(separator: ",").compactMap { Int($0) },
                                     listSize: listSize, backends: backends.split(separator: ",").map(String.init),
                                     https: !noHTTPS).run()
        }
    }

    struct Region: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The regional endpoint under wrk: a signed DescribeCluster replayed, then distinct CreateClusters; Skiff and moto side by side.")

        @Option(help: "wrk's connections.") var connections = 32
        @Option(help: "wrk's threads.") var threads = 2
        @Option(help: "Seconds per run.") var seconds = 10
        @Option(help: "Which runs, comma-separated: sigv4 (verification alone, in process), describe, create.")
        var scenarios = "sigv4,describe,create"
        @Option(help: "Servers, comma-separated: skiff, moto (skipped when moto_server is not installed).") var targets = "skiff,moto"
        @Option(name: .customLong("work-dir"), help: "Where the server's data dir and wrk's scripts go (default: a temporary directory).")
        var workDir: String?

        func run() async throws {
            let directory = try Bench.workDirectory(workDir)
            defer { if workDir == nil { try? FileManager.default.removeItem(at: directory) } }
            try await RegionBenchmark(directory: directory, connections: connections, threads: threads, seconds: seconds,
                                      scenarios: Set(scenarios.split(separator: ",").map(String.init)),
                                      targets: targets.split(separator: ",").map(String.init)).run()
        }
    }

    struct Clusters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Many clusters on one skiff up: create-to-ready time, memory, files and threads per cluster; then a create-delete churn.")

        @Option(help: "Cluster counts to reach, comma-separated (each adds to the last).") var counts = "1,100,1000"
        @Option(help: "Clusters created (and deleted) at once.") var parallel = 16
        @Option(help: "Clusters created and deleted in parallel at the end, to check nothing stays behind (0: none).") var churn = 100
        @Option(name: .customLong("work-dir"), help: "Where the server's data dir goes (default: a temporary directory).")
        var workDir: String?

        func run() async throws {
            let directory = try Bench.workDirectory(workDir)
            defer { if workDir == nil { try? FileManager.default.removeItem(at: directory) } }
            try await ClustersBenchmark(directory: directory, counts: counts.split(separator: ",").compactMap { Int($0) },
                                        parallel: parallel, churn: churn).run()
        }
    }

    struct API: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The Kubernetes API of one cluster: the store alone, then the API server, with fsynced writes.")

        @Option(help: "Operations per throughput run, shared by the concurrent clients.") var operations = 4000
        @Option(name: .customLong("list-sizes"), help: "Pod counts at which to measure list latency and memory, comma-separated.")
        var listSizes = "10000,100000"
        @Option(help: "Concurrent watchers for the watch fan-out run.") var watchers = 100
        @Option(name: .customLong("churn-updates"), help: "Updates spread over 1,000 objects for the data-dir growth run.")
        var churnUpdates = 1_000_000
        @Option(help: "Which layers to run, comma-separated: store, api, https, churn, auth, audit, secrets.")
        var layers = "store,api,https,churn,auth,audit,secrets"
        @Option(name: .customLong("work-dir"), help: "Where the benchmark's databases go (default: a temporary directory).")
        var workDir: String?

        func run() async throws {
            let directory = try Bench.workDirectory(workDir)
            defer { if workDir == nil { try? FileManager.default.removeItem(at: directory) } }
            let sizes = listSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.sorted()
            try await APIBenchmark(directory: directory, operationsPerRun: operations, listSizes: sizes, watchers: watchers,
                                   churnUpdates: churnUpdates).run(layers: Set(layers.split(separator: ",").map(String.init)))
        }
    }
}
