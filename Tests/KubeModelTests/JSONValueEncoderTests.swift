import Foundation
import KubeModel
import Testing

struct JSONValueEncoderTests {
    enum Status: String, Codable { case ACTIVE, CREATING }

    struct Inner: Codable, Equatable {
        var name: String
        var sizes: [Int]
        var note: String?
    }

    struct Outer: Codable, Equatable {
        var status: Status
        var createdAt: Date
        var ratio: Double
        var big: UInt64
        var flags: [Bool]
        var inner: Inner
        var missing: Inner?
        var tags: [String: String]
        var nested: [[String: Inner]]
        var blob: Data
        var empty: [String]
    }

    /// What Foundation's JSONEncoder (dates as seconds since 1970) writes, read back, is what this encoder makes.
    @Test func encodesAsFoundationDoes() throws {
        let value = Outer(status: .CREATING, createdAt: Date(timeIntervalSince1970: 1_764_623_456.25), ratio: 0.1,
                          big: 1 << 40, flags: [true, false], inner: Inner(name: "a \"quoted\" / name", sizes: [1, -2], note: nil),
                          missing: nil, tags: ["team": "platform", "empty": ""],
                          nested: [["x": Inner(name: "x", sizes: [], note: "n")]], blob: Data([0, 1, 254]), empty: [])
        let foundation = JSONEncoder()
        foundation.dateEncodingStrategy = .secondsSince1970
        let expected = try JSONCoding.decode(Array(try foundation.encode(value)))
        let encoded = try JSONValueEncoder().encode(value)
        #expect(encoded == expected)
        #expect(encoded["missing"] == nil && encoded["inner"]?["note"] == nil)
        // And the bytes it writes decode to the same value.
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        #expect(try decoder.decode(Outer.self, from: Data(try JSONValueEncoder().encodeToBytes(value))) == value)
    }
}
