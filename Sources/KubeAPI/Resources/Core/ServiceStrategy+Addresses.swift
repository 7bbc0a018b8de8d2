import Foundation
import KubeModel

/// A Service's cluster IP and node ports: handed out from the stored allocators when it is created,
/// kept across updates, given back when it is deleted (or when its create fails).
extension ServiceStrategy {
    func beginCreate(_ object: inout JSON, context: WriteContext) async throws -> FinishWrite? {
        let registry = context.registry
        // A taken name is reported as such before any address is checked or handed out.
        let key = context.registry.resources.find(group: "", version: "v1", resource: "services")?
            .key(namespace: object.namespace, name: object.name)
        if let key, try await registry.store.get(key) != nil {
            throw APIError.alreadyExists("services", name: object.name)
        }
        let allocated = try await allocate(&object, registry: registry, dryRun: context.dryRun)
        return { succeeded in
            if !succeeded { await Self.release(allocated, registry: registry) }
        }
    }

    func prepareForUpdate(_ object: inout JSON, old: JSON) {
        // Addresses are immutable: an update that leaves them out keeps them.
        for field in ["clusterIP", "clusterIPs"] where (object[path: ["spec", field]] ?? .null) == .null
            || object[path: ["spec", field]] == .string("") {
            object[path: ["spec", field]] = old[path: ["spec", field]]
        }
        guard var ports = object[path: ["spec", "ports"]]?.array else { return }
        let oldPorts = old[path: ["spec", "ports"]]?.array ?? []
        for index in ports.indices where ports[index]["nodePort"] == nil {
            ports[index]["nodePort"] = oldPorts.first { $0["port"] == ports[index]["port"] && $0["protocol"] == ports[index]["protocol"] }?["nodePort"]
        }
        object[path: ["spec", "ports"]] = .array(ports)
    }

    func afterDelete(_ object: JSON, context: WriteContext) async {
        await Self.release(Self.addresses(of: object, network: context.registry.serviceNetwork), registry: context.registry)
    }

    /// What a Service holds of the two ranges.
    struct Allocation: Sendable {
        var address: Int?
        var nodePorts: [Int] = []
    }

    static func addresses(of service: JSON, network: ServiceNetwork?) -> Allocation {
        var allocation = Allocation()
        if let ip = service[path: ["spec", "clusterIP"]]?.string { allocation.address = network?.offset(of: ip) }
        allocation.nodePorts = (service[path: ["spec", "ports"]]?.array ?? []).compactMap { $0["nodePort"]?.int }
            .filter(NodePorts.range.contains).map { Int($0 - NodePorts.range.lowerBound) }
        return allocation
    }

    static func release(_ allocation: Allocation, registry: Registry) async {
        if let network = registry.serviceNetwork, let address = allocation.address {
            try? await network.addressAllocator(registry.store).release([address])
        }
        try? await NodePorts.allocator(registry.store).release(allocation.nodePorts)
    }

    /// Fills in `clusterIP`/`clusterIPs` and node ports, checking requested ones; returns what it took.
    func allocate(_ service: inout JSON, registry: Registry, dryRun: Bool) async throws -> Allocation {
        guard let network = registry.serviceNetwork, var spec = service["spec"] else { return Allocation() }
        let type = spec["type"]?.string ?? "ClusterIP"
        let name = service.name
        func invalid(_ field: String, _ value: JSON, _ detail: String) -> APIError {
            .invalid(kind: "Service", name: name, causes: [.invalid(field, value, detail)])
        }
        var taken = Allocation()
        do {
            if type != "ExternalName" {
                let addresses = network.addressAllocator(registry.store)
                if let requested = spec["clusterIP"]?.string, !requested.isEmpty {
                    if requested != "None" {
                        guard let offset = network.offset(of: requested) else {
                            throw invalid("spec.clusterIPs", .string(requested), "failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(network.cidr)")
                        }
                        do {
                            taken.address = try await addresses.allocate(offset, dryRun: dryRun)
                        } catch RangeAllocator.Failure.taken {
                            throw invalid("spec.clusterIPs", .string(requested), "failed to allocate IP \(requested): provided IP is already allocated")
                        }
                    }
                    spec["clusterIPs"] = [.string(requested)]
                } else {
                    do {
                        let offset = try await addresses.allocate(nil, dryRun: dryRun)
                        taken.address = offset
                        spec["clusterIP"] = .string(network.address(at: offset))
                        spec["clusterIPs"] = [.string(network.address(at: offset))]
                    } catch RangeAllocator.Failure.full {
                        throw APIError.internalError("failed to allocate a serviceIP: range is full")
                    }
                }
            }
            if type == "NodePort" || type == "LoadBalancer" {
                let nodePorts = NodePorts.allocator(registry.store)
                var ports = spec["ports"]?.array ?? []
                for index in ports.indices {
                    if let requested = ports[index]["nodePort"]?.int, requested != 0 {
                        guard NodePorts.range.contains(requested) else {
                            throw invalid("spec.ports[\(index)].nodePort", .int(requested),
                                          "provided port is not in the valid range. The range of valid ports is 30000-32767")
                        }
                        do {
                            taken.nodePorts.append(try await nodePorts.allocate(Int(requested - NodePorts.range.lowerBound), dryRun: dryRun))
                        } catch RangeAllocator.Failure.taken {
                            throw invalid("spec.ports[\(index)].nodePort", .int(requested), "provided port is already allocated")
                        }
                        continue
                    }
                    do {
                        let offset = try await nodePorts.allocate(nil, dryRun: dryRun)
                        taken.nodePorts.append(offset)
                        ports[index]["nodePort"] = .int(NodePorts.range.lowerBound + Int64(offset))
                    } catch RangeAllocator.Failure.full {
                        throw APIError.internalError("failed to allocate a nodePort: range is full")
                    }
                }
                spec["ports"] = .array(ports)
            }
        } catch {
            if !dryRun { await Self.release(taken, registry: registry) }
            throw error
        }
        service["spec"] = spec
        return dryRun ? Allocation() : taken
    }
}

extension ServiceStrategy {
    /// Marks every stored Service's addresses as taken, as kube-apiserver's repair loop does at start:
    /// a data dir from before the stored allocators, or one restored from a copy, stays consistent.
    static func repairAllocations(_ registry: Registry, services: ResourceType) async throws {
        let all = try await registry.listFromStore(services, namespace: nil, options: ListOptions()).items
        for service in all {
            let held = addresses(of: service, network: registry.serviceNetwork)
            if let network = registry.serviceNetwork, let address = held.address {
                _ = try? await network.addressAllocator(registry.store).allocate(address)
            }
            for port in held.nodePorts { _ = try? await NodePorts.allocator(registry.store).allocate(port) }
        }
    }
}
