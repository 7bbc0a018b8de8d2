import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// `skiff bench clusters`: many clusters on one `skiff up` (in a process of its own, provisioning at once). At each
/// count it creates clusters in parallel up to that count and reports create-to-ready time (CreateCluster sent
/// until the cluster's own API server answers `GET /version`), and the server's memory, open files and threads per
/// cluster; then it deletes a batch in parallel and reports what is left behind once they are gone.
struct ClustersBenchmark {
    let directory: URL
    let counts: [Int]
    let parallel: Int
    let churn: Int

    func run() async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        // Readiness only: whether the cluster's endpoint answers, whichever CA signed it.
        tls.certificateVerification = .none
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(30)))
        // A connection per parallel task to the regional endpoint; those to clusters' endpoints do not outlive their probes.
        configuration.connectionPool = .init(idleTimeout: .seconds(2), concurrentHTTP1ConnectionsPerHostSoftLimit: 2 * parallel)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let server = try BenchServerProcess.skiff(directory: directory.appendingPathComponent("skiff-\(UUID())"), provisioningDelay: 0)
        do {
            try await measure(server, client)
        } catch {
            server.stop()
            try? await client.shutdown()
            throw error
        }
        server.stop()
        try await client.shutdown()
    }

    private func measure(_ server: BenchServerProcess, _ client: HTTPClient) async throws {
        try await server.waitUntilReady(client)
        let base = server.baseURL
        let subnets = try await RegionBenchmark.defaultSubnets(client, base: base)
        let idle = ProcessFigures(pid: server.process.processIdentifier)
        print(BenchOutput.json([("scenario", "idle-server")] + idle.fields))
        var created = 0
        for count in counts.sorted() where count > created {
            let names = (created..<count).map { "bench-\($0)" }
            let before = ProcessFigures(pid: server.process.processIdentifier)
            let started = ContinuousClock.now
            let readiness = try await forEach(names) { name in try await createAndWait(client, base: base, name: name, subnets: subnets) }
            let elapsed = ContinuousClock.now - started
            created = count
            // Let the new control planes settle (their first controller passes) before reading memory.
            try await Task.sleep(for: .seconds(2))
            let after = ProcessFigures(pid: server.process.processIdentifier)
            // What the idle clusters cost: the server's CPU over 5 s with no request.
            let cpuBefore = server.cpuSeconds
            try await Task.sleep(for: .seconds(5))
            let idleCPU = (server.cpuSeconds - cpuBefore) / 5
            let sorted = readiness.sorted()
            let added = Double(names.count)
            print(BenchOutput.json([
                ("scenario", "clusters"), ("clusters", count), ("created", names.count), ("parallel", parallel),
                ("create_to_ready_p50_s", rounded(sorted[sorted.count / 2])), ("create_to_ready_p99_s", rounded(sorted[min(sorted.count - 1, sorted.count * 99 / 100)])),
                ("create_to_ready_max_s", rounded(sorted.last ?? 0)), ("seconds", rounded(seconds(elapsed))),
                ("rss_mb", after.residentMB), ("rss_mb_per_cluster", rounded((after.residentMB - before.residentMB) / added)),
                ("fds_per_cluster", rounded(Double(after.openFiles - before.openFiles) / added)),
                ("threads", after.threads), ("idle_cpu_percent", rounded(idleCPU * 100)),
            ]))
        }
        // Churn: a batch created and deleted in parallel; afterwards no file or thread of theirs may remain.
        guard churn > 0 else { return }
        let before = ProcessFigures(pid: server.process.processIdentifier)
        let names = (0..<churn).map { "churn-\($0)" }
        _ = try await forEach(names) { name in try await createAndWait(client, base: base, name: name, subnets: subnets) }
        _ = try await forEach(names) { name in try await deleteAndWait(client, base: base, name: name) }
        try await Task.sleep(for: .seconds(2))
        let after = ProcessFigures(pid: server.process.processIdentifier)
        print(BenchOutput.json([
            ("scenario", "create-delete"), ("clusters", churn), ("fds_before", before.openFiles), ("fds_after", after.openFiles),
            ("threads_before", before.threads), ("threads_after", after.threads),
            ("rss_mb_before", before.residentMB), ("rss_mb_after", after.residentMB),
        ]))
    }

    /// Seconds from CreateCluster to the cluster's API server answering.
    private func createAndWait(_ client: HTTPClient, base: String, name: String, subnets: [String]) async throws -> Double {
        let started = ContinuousClock.now
        let created = try await RegionBenchmark.send(client, RegionBenchmark.createCluster(base: base, name: name, subnets: subnets))
        guard created.status == 200 else { throw CommandFailure("CreateCluster \(name) answered \(created.status): \(created.body)") }
        let deadline = started + .seconds(120)
        var endpoint: String?
        while ContinuousClock.now < deadline {
            if endpoint == nil {
                let described = try await RegionBenchmark.send(client, RegionBenchmark.signed(method: "GET", url: URL(string: "\(base)/clusters/\(name)")!, body: []))
                if let object = try? JSONSerialization.jsonObject(with: Data(described.body.utf8)) as? [String: Any],
                   let cluster = object["cluster"] as? [String: Any], cluster["status"] as? String == "ACTIVE" {
                    endpoint = cluster["endpoint"] as? String
                }
            }
            if let endpoint, let response = try? await client.execute(HTTPClientRequest(url: endpoint + "/version"), timeout: .seconds(2)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                if response.status.code == 200 { return seconds(ContinuousClock.now - started) }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CommandFailure("cluster \(name) did not answer within 120 s")
    }

    private func deleteAndWait(_ client: HTTPClient, base: String, name: String) async throws -> Double {
        let started = ContinuousClock.now
        let deleted = try await RegionBenchmark.send(client, RegionBenchmark.signed(method: "DELETE", url: URL(string: "\(base)/clusters/\(name)")!, body: []))
        guard deleted.status == 200 else { throw CommandFailure("DeleteCluster \(name) answered \(deleted.status): \(deleted.body)") }
        while ContinuousClock.now < started + .seconds(120) {
            let described = try await RegionBenchmark.send(client, RegionBenchmark.signed(method: "GET", url: URL(string: "\(base)/clusters/\(name)")!, body: []))
            if described.status == 404 { return seconds(ContinuousClock.now - started) }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw CommandFailure("cluster \(name) was not gone within 120 s")
    }

    /// Runs `work` for every item, `parallel` at a time; returns the results.
    private func forEach<T: Sendable>(_ items: [String], _ work: @escaping @Sendable (String) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: T.self) { group in
            var results: [T] = []
            var next = 0
            for _ in 0..<min(parallel, items.count) {
                let item = items[next]
                next += 1
                group.addTask { try await work(item) }
            }
            while let result = try await group.next() {
                results.append(result)
                if next < items.count {
                    let item = items[next]
                    next += 1
                    group.addTask { try await work(item) }
                }
            }
            return results
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}

/// Memory, open files and threads of a process, from /proc.
struct ProcessFigures {
    let residentMB: Double
    let openFiles: Int
    let threads: Int

    init(pid: Int32) {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Double {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        residentMB = (field("VmRSS") / 1024 * 10).rounded() / 10
        threads = Int(field("Threads"))
        openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    var fields: [(String, Any)] { [("rss_mb", residentMB), ("fds", openFiles), ("threads", threads)] }
}
