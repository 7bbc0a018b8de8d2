import AsyncHTTPClient
import Auth
import Foundation
import NIOCore
import RegionStore
import SkiffServer

/// `skiff bench region`: the regional endpoint under wrk, as a user's fleet of SDKs drives it. One SigV4-signed
/// `DescribeCluster` replayed over many connections (reads), then distinct signed `CreateCluster`s (fsynced
/// writes), against a real `skiff up` in a process of its own and, where moto's server is installed, against
/// moto in the same run. Prints one JSON line per target and scenario, with the server's CPU time per request.
struct RegionBenchmark {
    let directory: URL
    let connections: Int
    let threads: Int
    let seconds: Int
    let scenarios: Set<String>
    let targets: [String]

    static let roleArn = "arn:aws:iam::000000000000:role/bench-cluster"

    func run() async throws {
        guard let wrk = Self.executable("wrk") else {
            throw CommandFailure("bench region needs wrk (Debian: apt-get install wrk)")
        }
        if scenarios.contains("sigv4") { try await sigV4() }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            for target in targets { try await run(target, wrk: wrk, client: client) }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    private func run(_ target: String, wrk: String, client: HTTPClient) async throws {
        let server: BenchServerProcess
        switch target {
        case "skiff":
            // Clusters created by the write run stay CREATING: the run measures the API, not control planes starting.
            server = try BenchServerProcess.skiff(directory: directory.appendingPathComponent("skiff-\(UUID())"), provisioningDelay: 86_400)
        case "moto":
            guard let moto = Self.executable("moto_server") else {
                print(BenchOutput.json([("target", "moto"), ("skipped", "moto_server is not installed")]))
                return
            }
            server = try BenchServerProcess.moto(executable: moto)
        default:
            throw CommandFailure("unknown target \(target): use skiff or moto")
        }
        defer { server.stop() }
        try await server.waitUntilReady(client)
        let base = server.baseURL
        let subnets = try await Self.defaultSubnets(client, base: base)
        // The read: one cluster, described over and over with the same signed request (valid for 15 minutes).
        let created = try await Self.send(client, Self.createCluster(base: base, name: "bench", subnets: subnets))
        guard created.status == 200 else { throw CommandFailure("CreateCluster on \(target) answered \(created.status): \(created.body)") }
        if scenarios.contains("describe") {
            let request = Self.signed(method: "GET", url: URL(string: "\(base)/clusters/bench")!, body: [])
            let script = directory.appendingPathComponent("describe-\(target).lua")
            try WrkScript.fixed(request).write(to: script, atomically: true, encoding: .utf8)
            print(try await runWrk(wrk, script: script, base: base, server: server, scenario: "describe-cluster", target: target))
        }
        if scenarios.contains("create") {
            // Distinct clusters, signed ahead of time (signing is the client's cost, not the server's), more than
            // the run can use at the target rate; wrk sends them in order across its connections.
            let count = max(20_000, 3 * 2_000 * seconds)
            let file = directory.appendingPathComponent("create-\(target).requests")
            try Self.createRequests(count: count, base: base, subnets: subnets).write(to: file, atomically: true, encoding: .utf8)
            let script = directory.appendingPathComponent("create-\(target).lua")
            try WrkScript.fromFile(file, threads: threads).write(to: script, atomically: true, encoding: .utf8)
            print(try await runWrk(wrk, script: script, base: base, server: server, scenario: "create-cluster", target: target))
        }
    }

    /// SigV4 verification alone, in process, the key looked up as the server does: one signed DescribeCluster
    /// verified over and over (derived keys cached, as a server sees the same key sign all day).
    private func sigV4() async throws {
        // The key looked up as the server looks it up: in the region's records (held in memory).
        let credentials = CredentialStore(database: try RegionDatabase(directory: directory.appendingPathComponent("sigv4-\(UUID())")))
        try await credentials.ensureDefaultKey()
        let verifier = SigV4Verifier(region: "us-east-1") { id in try await credentials.accessKey(id: id) }
        let url = URL(string: "http://127.0.0.1:4566/clusters/bench")!
        let signed = Self.signed(method: "GET", url: url, body: [])
        let request = SignableRequest(method: "GET", rawPath: "/clusters/bench", rawQuery: "",
                                      headers: signed.headers.map { (name: $0.0, value: $0.1) } + [(name: "host", value: "127.0.0.1:4566")],
                                      body: [])
        let iterations = 200_000
        _ = try await verifier.verify(request)
        let started = ContinuousClock.now
        for _ in 0..<iterations { _ = try await verifier.verify(request) }
        let elapsed = ContinuousClock.now - started
        let micros = (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(iterations)
        print(BenchOutput.json([("scenario", "sigv4-verify"), ("layer", "in-process"), ("operations", iterations),
                                ("us_per_op", (micros * 100).rounded() / 100)]))
    }

    /// Runs wrk with `script` against `base`; the script's `done` prints the figures as one JSON object.
    private func runWrk(_ wrk: String, script: URL, base: String, server: BenchServerProcess,
                        scenario: String, target: String) async throws -> String {
        let cpuBefore = server.cpuSeconds
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t", String(threads), "-c", String(connections), "-d", "\(seconds)s", "--timeout", "10s", "-s", script.path, base]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        let serverCPU = server.cpuSeconds - cpuBefore
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("WRK ") }),
              let figures = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(4).utf8)) as? [String: Any],
              let requests = figures["requests"] as? Int, let duration = figures["duration_us"] as? Int else {
            throw CommandFailure("wrk printed no figures: \(text)")
        }
        let p50 = figures["p50_us"] as? Int ?? 0, p99 = figures["p99_us"] as? Int ?? 0
        return BenchOutput.json([
            ("scenario", scenario), ("target", target), ("connections", connections), ("requests", requests),
            ("requests_per_sec", (Double(requests) / (Double(duration) / 1e6) * 10).rounded() / 10),
            ("p50_ms", Double(p50) / 1000), ("p99_ms", Double(p99) / 1000),
            ("errors", figures["errors"] as? Int ?? 0), ("non_2xx", figures["non2xx"] as? Int ?? 0),
            ("server_cpu_us_per_req", requests > 0 ? (serverCPU / Double(requests) * 1e6).rounded() : 0),
        ])
    }

    // MARK: Requests

    static func signed(method: String, url: URL, body: [UInt8], service: String = "eks",
                       contentType: String? = "application/json") -> SignedRequest {
        let headers = contentType.map { [("Content-Type", $0)] } ?? []
        let signer = SigV4Signer(accessKeyId: CredentialStore.defaultAccessKeyId, secretAccessKey: CredentialStore.defaultSecretAccessKey,
                                 region: "us-east-1", service: service)
        return SignedRequest(method: method, url: url, headers: headers + signer.sign(method: method, url: url, headers: headers, body: body),
                             body: body)
    }

    static func createCluster(base: String, name: String, subnets: [String]) -> SignedRequest {
        let body = JSONSerialization.compact([
            "name": name, "roleArn": roleArn, "resourcesVpcConfig": ["subnetIds": subnets],
        ])
        return signed(method: "POST", url: URL(string: "\(base)/clusters")!, body: body)
    }

    /// One signed CreateCluster per line: the cluster's body and its headers, tab-separated.
    static func createRequests(count: Int, base: String, subnets: [String]) -> String {
        let run = UUID().uuidString.prefix(8).lowercased()
        var lines: [String] = []
        lines.reserveCapacity(count)
        for index in 0..<count {
            let request = createCluster(base: base, name: "c\(run)-\(index)", subnets: subnets)
            lines.append(([String(decoding: request.body, as: UTF8.self)] + request.headers.map { "\($0.0): \($0.1)" })
                .joined(separator: "\t"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The default VPC's subnets, from EC2's `DescribeSubnets` (moto and Skiff both have them).
    static func defaultSubnets(_ client: HTTPClient, base: String) async throws -> [String] {
        let body = Array("Action=DescribeSubnets&Version=2016-11-15".utf8)
        let response = try await send(client, signed(method: "POST", url: URL(string: base + "/")!, body: body, service: "ec2",
                                                     contentType: "application/x-www-form-urlencoded; charset=utf-8"))
        let ids = response.body.components(separatedBy: "<subnetId>").dropFirst().compactMap { $0.components(separatedBy: "<").first }
        guard ids.count >= 2 else { throw CommandFailure("DescribeSubnets answered \(response.status): \(response.body)") }
        return Array(ids.prefix(2))
    }

    static func send(_ client: HTTPClient, _ request: SignedRequest) async throws -> (status: Int, body: String) {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = .init(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        let response = try await client.execute(outgoing, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 24)
        return (Int(response.status.code), String(buffer: body))
    }

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

struct SignedRequest {
    let method: String
    let url: URL
    let headers: [(String, String)]
    let body: [UInt8]
}

/// wrk's Lua scripts: a request replayed as is, or requests read from a file, and a `done` that prints the
/// figures as `WRK {json}`.
enum WrkScript {
    static func fixed(_ request: SignedRequest) -> String {
        var lines = ["wrk.method = \(quoted(request.method))"]
        lines.append("wrk.path = \(quoted(request.url.path))")
        for (name, value) in request.headers { lines.append("wrk.headers[\(quoted(name))] = \(quoted(value))") }
        if !request.body.isEmpty { lines.append("wrk.body = \(quoted(String(decoding: request.body, as: UTF8.self)))") }
        return (lines + [done]).joined(separator: "\n") + "\n"
    }

    /// Each of wrk's threads takes every `threads`-th line of `file` (`RegionBenchmark.createRequests`), in order,
    /// starting over when they run out (a repeat is then refused, and counted as a non-2xx answer).
    static func fromFile(_ file: URL, threads: Int) -> String {
        """
        local thread_count = 0
        function setup(thread)
          thread:set("id", thread_count)
          thread_count = thread_count + 1
        end
        local requests = {}
        local next_request = 0
        function init(args)
          local index = 0
          for line in io.lines(\(quoted(file.path))) do
            if index % \(threads) == id then
              local fields = {}
              for field in string.gmatch(line, "[^\\t]+") do table.insert(fields, field) end
              local headers = {}
              for i = 2, #fields do
                local name, value = string.match(fields[i], "^([^:]+): (.*)$")
                headers[name] = value
              end
              table.insert(requests, wrk.format("POST", "/clusters", headers, fields[1]))
            end
            index = index + 1
          end
        end
        function request()
          next_request = next_request % #requests + 1
          return requests[next_request]
        end
        \(done)
        """
    }

    private static let done = """
        function done(summary, latency, requests)
          local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
          io.write(string.format('WRK {"requests":%d,"duration_us":%d,"errors":%d,"non2xx":%d,"p50_us":%d,"p99_us":%d}\\n',
            summary.requests, summary.duration, errors, summary.errors.status, latency:percentile(50), latency:percentile(99)))
        end
        """

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// A server the benchmark drives from outside, in a process of its own: `skiff up`, or moto's server.
struct BenchServerProcess {
    let process: Process
    let baseURL: String
    let healthPath: String

    static func skiff(directory: URL, provisioningDelay: Double) throws -> BenchServerProcess {
        let port = LoopbackPorts.free(host: "127.0.0.1") ?? 14566
        return try start(executable: ControlPlaneProcess.selfExecutable.path,
                         arguments: ["up", "--port", String(port), "--data-dir", directory.path,
                                     "--provisioning-delay", String(provisioningDelay), "--log-level", "error"],
                         baseURL: "http://127.0.0.1:\(port)", healthPath: "/_skiff/health")
    }

    static func moto(executable: String) throws -> BenchServerProcess {
        let port = LoopbackPorts.free(host: "127.0.0.1") ?? 15000
        return try start(executable: executable, arguments: ["-H", "127.0.0.1", "-p", String(port)],
                         baseURL: "http://127.0.0.1:\(port)", healthPath: "/moto-api/")
    }

    private static func start(executable: String, arguments: [String], baseURL: String, healthPath: String) throws -> BenchServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return BenchServerProcess(process: process, baseURL: baseURL, healthPath: healthPath)
    }

    func waitUntilReady(_ client: HTTPClient) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw CommandFailure("\(process.executableURL!.lastPathComponent) exited at start") }
            if let response = try? await client.execute(HTTPClientRequest(url: baseURL + healthPath), timeout: .seconds(1)) {
                _ = try? await response.body.collect(upTo: 1 << 24)
                if response.status.code == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandFailure("\(baseURL) did not answer within 30 s")
    }

    var cpuSeconds: Double { ProcessCPU.seconds(of: process.processIdentifier) }

    /// SIGTERM, then SIGKILL if it has not exited within 5 s (moto's server does not stop on SIGTERM).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// User and system CPU time a process has used, in seconds, from /proc.
enum ProcessCPU {
    static func seconds(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

extension JSONSerialization {
    static func compact(_ object: [String: Any]) -> [UInt8] {
        (try? Array(data(withJSONObject: object, options: [.sortedKeys]))) ?? []
    }
}
