/// An IPv4 network in CIDR notation, e.g. `172.31.0.0/16`.
public struct IPv4CIDR: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The network address as a 32-bit number.
    public let network: UInt32
    public let prefixLength: Int

    /// Parses `a.b.c.d/n`; the address must be the network's first (no host bits set).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length),
              let address = Self.parseAddress(parts[0]) else { return nil }
        let mask = Self.mask(length)
        guard address & ~mask == 0 else { return nil }
        self.network = address
        self.prefixLength = length
    }

    public init(network: UInt32, prefixLength: Int) {
        self.network = network & Self.mask(prefixLength)
        self.prefixLength = prefixLength
    }

    static func parseAddress(_ text: Substring) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy(\.isASCII), let byte = UInt8(octet) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    static func mask(_ length: Int) -> UInt32 {
        length == 0 ? 0 : UInt32.max << (32 - length)
    }

    public var addressCount: Int { 1 << (32 - prefixLength) }
    public var lastAddress: UInt32 { network | ~Self.mask(prefixLength) }

    public func contains(_ other: IPv4CIDR) -> Bool {
        other.prefixLength >= prefixLength && other.network & Self.mask(prefixLength) == network
    }

    public func overlaps(_ other: IPv4CIDR) -> Bool {
        contains(other) || other.contains(self)
    }

    public static func formatAddress(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String(address >> $0 & 0xFF) }.joined(separator: ".")
    }

    public var description: String { "\(Self.formatAddress(network))/\(prefixLength)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let cidr = IPv4CIDR(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad CIDR \(text)"))
        }
        self = cidr
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
