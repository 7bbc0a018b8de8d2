import Foundation
import KubeModel

/// Cluster IPs from the cluster's service CIDR and node ports from 30000–32767,
/// handed out when a Service is created, as the API server's allocators do.
public struct ServiceNetwork: Sendable {
    let base: UInt32
    let size: UInt32

    /// Parses `10.100.0.0/16`.
    public init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        let octets = parts.first?.split(separator: ".").compactMap { UInt32($0) } ?? []
        guard parts.count == 2, octets.count == 4, octets.allSatisfy({ $0 < 256 }), let length = UInt32(parts[1]), (8...30).contains(length) else {
            return nil
        }
        base = octets.reduce(0) { $0 << 8 | $1 }
        size = 1 << (32 - length)
    }

    /// The first usable address: the `kubernetes` service's.
    public var apiServiceIP: String { Self.format(base + 1) }

    static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xFF) }.joined(separator: ".")
    }

    func contains(_ address: String) -> Bool {
        let octets = address.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4 else { return false }
        let value = octets.reduce(0) { $0 << 8 | $1 }
        return value > base && value < base + size - 1
    }

    /// A free address, chosen at random as Kubernetes does (the network and broadcast addresses excepted).
    func allocate(avoiding used: Set<String>) -> String? {
        guard size > 2 else { return nil }
        let start = UInt32.random(in: 2..<(size - 1))
        for offset in 0..<(size - 3) {
            let candidate = Self.format(base + 2 + (start - 2 + offset) % (size - 3))
            if !used.contains(candidate) { return candidate }
        }
        return nil
    }
}

extension Registry {
    static let nodePortRange: ClosedRange<Int64> = 30000...32767

    /// Fills in `clusterIP`/`clusterIPs` and node ports of a new Service, checking requested ones.
    func allocateServiceAddresses(_ service: inout JSON) async throws {
        guard let network = serviceNetwork, var spec = service["spec"] else { return }
        let type = spec["type"]?.string ?? "ClusterIP"
        guard let services = resources.find(group: "", version: "v1", resource: "services") else { return }
        let existing = try await list(services, namespace: nil, options: ListOptions()).items
        let name = service.name
        func invalid(_ field: String, _ value: JSON, _ detail: String) -> APIError {
            .invalid(kind: "Service", name: name, causes: [.invalid(field, value, detail)])
        }
        if type != "ExternalName" {
            let used = Set(existing.compactMap { $0[path: ["spec", "clusterIP"]]?.string })
            if let requested = spec["clusterIP"]?.string, !requested.isEmpty {
                if requested != "None" {
                    guard network.contains(requested) else {
                        throw invalid("spec.clusterIPs", .string(requested), "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(ServiceNetwork.format(network.base))/\(32 - Int(log2(Double(network.size)))))")
                    }
                    if used.contains(requested) {
                        throw invalid("spec.clusterIPs", .string(requested), "failed to allocate IP \(requested): provided IP is already allocated")
                    }
                }
                spec["clusterIPs"] = [.string(requested)]
            } else {
                guard let address = network.allocate(avoiding: used) else {
                    throw APIError.internalError("failed to allocate a serviceIP: range is full")
                }
                spec["clusterIP"] = .string(address)
                spec["clusterIPs"] = [.string(address)]
            }
        }
        if type == "NodePort" || type == "LoadBalancer" {
            var usedPorts = Set(existing.flatMap { ($0[path: ["spec", "ports"]]?.array ?? []).compactMap { $0["nodePort"]?.int } })
            var ports = spec["ports"]?.array ?? []
            for index in ports.indices {
                if let requested = ports[index]["nodePort"]?.int, requested != 0 {
                    guard Self.nodePortRange.contains(requested), !usedPorts.contains(requested) else {
                        throw invalid("spec.ports[\(index)].nodePort", .int(requested),
                                      Self.nodePortRange.contains(requested) ? "provided port is already allocated"
                                          : "provided port is not in the valid range. The range of valid ports is 30000-32767")
                    }
                    usedPorts.insert(requested)
                    continue
                }
                guard let port = Self.nodePortRange.shuffled().first(where: { !usedPorts.contains($0) }) else {
                    throw APIError.internalError("failed to allocate a nodePort: range is full")
                }
                usedPorts.insert(port)
                ports[index]["nodePort"] = .int(port)
            }
            spec["ports"] = .array(ports)
        }
        service["spec"] = spec
    }

    /// Keeps the addresses a Service was given when an update leaves them out (they are immutable).
    static func carryServiceAddresses(_ service: inout JSON, from current: JSON) {
        for field in ["clusterIP", "clusterIPs"] where (service[path: ["spec", field]] ?? .null) == .null
            || service[path: ["spec", field]] == .string("") {
            service[path: ["spec", field]] = current[path: ["spec", field]]
        }
        guard var ports = service[path: ["spec", "ports"]]?.array else { return }
        let currentPorts = current[path: ["spec", "ports"]]?.array ?? []
        for index in ports.indices where ports[index]["nodePort"] == nil {
            ports[index]["nodePort"] = currentPorts.first { $0["port"] == ports[index]["port"] && $0["protocol"] == ports[index]["protocol"] }?["nodePort"]
        }
        service[path: ["spec", "ports"]] = .array(ports)
    }
}
