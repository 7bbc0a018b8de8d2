import Foundation
import KubeModel

/// Latency samples of one scenario, and what a script reads from them.
struct Measurement {
    let scenario: String
    let layer: String
    let clients: Int
    let operations: Int
    let seconds: Double
    let latencies: [Double]
    /// CPU time the whole process spent (load generator included), user and system.
    let cpuSeconds: Double
    /// CPU time a server in a process of its own spent, where there is one.
    var serverCPUSeconds: Double?

    var throughput: Double { Double(operations) / seconds }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// One JSON line: `{"scenario":…,"layer":…,"clients":…,"ops_per_sec":…,"p50_ms":…,"p99_ms":…}`.
    var line: String {
        let fields: [(String, Any)] = [("scenario", scenario), ("layer", layer), ("clients", clients), ("operations", operations),
                                       ("ops_per_sec", (throughput * 10).rounded() / 10),
                                       ("p50_ms", (percentile(0.5) * 1e5).rounded() / 100),
                                       ("p99_ms", (percentile(0.99) * 1e5).rounded() / 100),
                                       ("cpu_us_per_op", (cpuSeconds / Double(operations) * 1e6).rounded())]
        let server: [(String, Any)] = serverCPUSeconds.map { [("server_cpu_us_per_op", ($0 / Double(operations) * 1e6).rounded())] } ?? []
        return BenchOutput.json(fields + server)
    }
}

enum BenchOutput {
    static func json(_ fields: [(String, Any)]) -> String {
        "{" + fields.map { key, value in
            let rendered: String = switch value {
            case let text as String: "\"\(text)\""
            default: "\(value)"
            }
            return "\"\(key)\":\(rendered)"
        }.joined(separator: ",") + "}"
    }

    /// CPU time this process has used so far, user and system, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Resident memory of this process, from /proc.
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Int(statm.split(separator: " ")[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// Runs `operation` from `clients` concurrent tasks, `perClient` times each, timing every call.
func measure(_ scenario: String, layer: String, clients: Int, perClient: Int,
             _ operation: @escaping @Sendable (_ client: Int, _ index: Int) async throws -> Void) async throws -> Measurement {
    let start = ContinuousClock.now
    let cpuBefore = BenchOutput.cpuSeconds()
    let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
        for client in 0..<clients {
            group.addTask {
                var samples: [Double] = []
                samples.reserveCapacity(perClient)
                for index in 0..<perClient {
                    let began = ContinuousClock.now
                    try await operation(client, index)
                    let elapsed = ContinuousClock.now - began
                    samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
                return samples
            }
        }
        return try await group.reduce(into: [Double]()) { $0 += $1 }
    }
    let elapsed = ContinuousClock.now - start
    return Measurement(scenario: scenario, layer: layer, clients: clients, operations: clients * perClient,
                       seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                       latencies: latencies, cpuSeconds: BenchOutput.cpuSeconds() - cpuBefore)
}
