import EtcdStore
import Foundation
import Synchronization
import Testing

/// Who leads now, as the elected work reports it.
final class Leaders: Sendable {
    private let names = Mutex<[String]>([])
    func withLock<T>(_ body: (inout [String]) -> T) -> T { names.withLock { body(&$0) } }
}

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

    /// One leader at a time; a leader that stops frees the key at once, and the other takes it within a retry.
    @Test func electionHasOneLeaderAndMovesWhenItStops() async throws {
        let cluster = try await LocalEtcdCluster(size: 1)
        defer { cluster.stop() }
        let client = try EtcdClient(endpoints: cluster.endpoints)
        defer { client.close() }
        let leading = Leaders()
        @Sendable func candidate(_ identity: String) -> Task<Void, Never> {
            var election = EtcdLeaderElection(client: client, key: "/test/leader", identity: identity)
            election.retryPeriod = .milliseconds(100)
            let elected = election
            return Task {
                await elected.run {
                    leading.withLock { $0.append(identity) }
                    try? await Task.sleep(for: .seconds(3600))
                    leading.withLock { $0.removeAll { $0 == identity } }
                }
            }
        }
        let first = candidate("a")
        try await waitFor { leading.withLock { $0 == ["a"] } }
        let second = candidate("b")
        try await Task.sleep(for: .milliseconds(500))
        #expect(leading.withLock { $0 } == ["a"])
        #expect(try await client.get(Array("/test/leader".utf8)).map { String(decoding: $0, as: UTF8.self) } == "a")
        first.cancel()
        try await waitFor { leading.withLock { $0 == ["b"] } }
        // A replica that comes back under the identity holding the key takes it back without waiting for the lease.
        let again = candidate("b")
        try await waitFor { leading.withLock { $0.filter { $0 == "b" }.count == 2 } }
        second.cancel()
        again.cancel()
    }

    /// Within 5 s: less than the 10 s a lease outlives a leader that did not revoke it.
    func waitFor(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
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
