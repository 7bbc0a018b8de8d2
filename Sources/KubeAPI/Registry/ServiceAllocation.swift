import Foundation
import KubeModel
import KubeStore

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

}

/// A range of addresses or ports handed out one at a time, kept in the store as a bitmap under one key
/// (as kube-apiserver keeps its `RangeAllocation`s at `/registry/ranges/…`) and changed only by
/// compare-and-swap, so two concurrent creates can never be given the same one.
struct RangeAllocator: Sendable {
    let store: any KubeStore
    let key: String
    /// How many values the range holds; value `i` is bit `i`.
    let size: Int
    /// Written into the stored object, as the real range allocation names its range.
    let range: String
    /// Values never handed out (a network's own and broadcast addresses).
    var reserved: [Int] = []

    enum Failure: Error, Equatable {
        case taken
        case full
    }

    /// Takes `value`, or a free one at random when nil; returns the one taken. A dry run takes nothing.
    func allocate(_ value: Int?, dryRun: Bool = false) async throws -> Int {
        for _ in 0..<64 {
            let (current, bits) = try await read()
            var updated = bits
            let chosen: Int
            if let value {
                guard !Self.isSet(bits, value) else { throw Failure.taken }
                chosen = value
            } else {
                guard let free = Self.randomFree(bits, size: size) else { throw Failure.full }
                chosen = free
            }
            if dryRun { return chosen }
            Self.set(&updated, chosen, true)
            if try await write(updated, over: current) { return chosen }
        }
        throw Failure.full
    }

    /// Gives values back (a Service was deleted, or its create failed).
    func release(_ values: [Int]) async throws {
        guard !values.isEmpty else { return }
        for _ in 0..<64 {
            let (current, bits) = try await read()
            var updated = bits
            for value in values { Self.set(&updated, value, false) }
            if updated == bits { return }
            if try await write(updated, over: current) { return }
        }
    }

    private func read() async throws -> (KeyValue?, [UInt8]) {
        guard let kv = try await store.get(key) else { return (nil, withReserved([UInt8](repeating: 0, count: (size + 7) / 8))) }
        let object = try JSONCoding.decode(kv.value)
        var bits = object["data"]?.string.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) } ?? []
        if bits.count < (size + 7) / 8 { bits += [UInt8](repeating: 0, count: (size + 7) / 8 - bits.count) }
        return (kv, withReserved(bits))
    }

    /// False if someone else wrote first (the caller reads again).
    private func write(_ bits: [UInt8], over current: KeyValue?) async throws -> Bool {
        let object: JSON = ["apiVersion": "v1", "kind": "RangeAllocation", "metadata": [:], "range": .string(range),
                            "data": .string(Data(bits).base64EncodedString())]
        do {
            if let current {
                _ = try await store.update(key, value: JSONCoding.encode(object), expectedRevision: current.modRevision)
            } else {
                _ = try await store.create(key, value: JSONCoding.encode(object))
            }
            return true
        } catch StoreError.conflict, StoreError.keyExists, StoreError.keyNotFound {
            return false
        }
    }

    private func withReserved(_ bits: [UInt8]) -> [UInt8] {
        var bits = bits
        for value in reserved { Self.set(&bits, value, true) }
        return bits
    }

    static func isSet(_ bits: [UInt8], _ index: Int) -> Bool { bits[index / 8] & (1 << UInt8(index % 8)) != 0 }

    static func set(_ bits: inout [UInt8], _ index: Int, _ on: Bool) {
        if on { bits[index / 8] |= 1 << UInt8(index % 8) } else { bits[index / 8] &= ~(1 << UInt8(index % 8)) }
    }

    /// A free value chosen at random, as Kubernetes chooses, scanning on from a random start.
    static func randomFree(_ bits: [UInt8], size: Int) -> Int? {
        guard size > 0 else { return nil }
        let start = Int.random(in: 0..<size)
        for offset in 0..<size where !isSet(bits, (start + offset) % size) { return (start + offset) % size }
        return nil
    }
}

extension ServiceNetwork {
    /// Its addresses but the network's own and the broadcast address.
    func addressAllocator(_ store: any KubeStore) -> RangeAllocator {
        RangeAllocator(store: store, key: "/registry/ranges/serviceips", size: Int(size), range: cidr, reserved: [0, Int(size) - 1])
    }

    var cidr: String { "\(Self.format(base))/\(32 - Int(log2(Double(size))))" }

    func offset(of address: String) -> Int? {
        let octets = address.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        let value = octets.reduce(0) { $0 << 8 | $1 }
        guard value > base, value < base + size - 1 else { return nil }
        return Int(value - base)
    }

    public func address(at offset: Int) -> String { Self.format(base + UInt32(offset)) }
}

enum NodePorts {
    static let range: ClosedRange<Int64> = 30000...32767

    static func allocator(_ store: any KubeStore) -> RangeAllocator {
        RangeAllocator(store: store, key: "/registry/ranges/servicenodeports", size: range.count, range: "30000-32767")
    }
}
