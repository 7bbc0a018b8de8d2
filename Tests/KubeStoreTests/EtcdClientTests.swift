import EtcdStore
import Foundation
import Testing

struct EtcdClientTests {
    /// etcd's gRPC server sends a bandwidth-estimation PING after each request; unfiltered, SwiftNIO takes the
    /// 200th within 30 s for a flood and closes the connection under every call in flight.
    @Test func manySequentialCallsKeepTheirConnection() async throws {
        let cluster = try await LocalEtcdCluster(size: 1)
        defer { cluster.stop() }
        let client = try EtcdClient(endpoints: cluster.endpoints)
        defer { client.close() }
        var revisions: [Int64] = []
        for index in 0..<400 {
            revisions.append(try await client.put(Array("/sequential/\(index)".utf8), value: Array(repeating: 7, count: 100)))
        }
        #expect(revisions == Array(revisions[0]...(revisions[0] + 399)))
    }

    @Test func endpointsAreParsedAndBadOnesRefused() throws {
        let three = try EtcdEndpoints(url: "etcd://127.0.0.1:2379,127.0.0.2:2379,127.0.0.3")
        #expect(three.members.map(\.port) == [2379, 2379, 2379])
        #expect(three.members.map(\.host) == ["127.0.0.1", "127.0.0.2", "127.0.0.3"])
        #expect(try EtcdEndpoints(url: "etcd://[::1]:2380").members == [.init(host: "::1", port: 2380)])
        #expect(throws: EtcdError.self) { try EtcdEndpoints(url: "http://127.0.0.1:2379") }
        #expect(throws: EtcdError.self) { try EtcdEndpoints(url: "etcd://127.0.0.1:notaport") }
        #expect(throws: EtcdError.self) { try EtcdEndpoints(url: "etcd://127.0.0.1:2379", certFile: "client.pem") }
    }
}
