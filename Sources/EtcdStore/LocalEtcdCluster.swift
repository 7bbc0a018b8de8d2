import Foundation

/// A real etcd cluster of one or more members on loopback, each in a temporary data dir, for the tests and
/// benchmarks that run the store on etcd (Debian's `etcd-server`, installed by scripts/install-test-tools).
public final class LocalEtcdCluster: @unchecked Sendable {
    public struct Member {
        public let name: String
        public let clientPort: Int
        public let peerPort: Int
        /// The shell that runs etcd and kills it when this pipe closes: on `stop`, or when the process that
        /// started it exits in any way (a test run that ends leaves no etcd behind).
        public let process: Process
        let lifeline: Pipe
    }

    public private(set) var members: [Member] = []
    public let directory: URL
    public let endpoints: EtcdEndpoints

    /// Where etcd is, if it is installed.
    public static var binary: String? {
        ["/usr/bin/etcd", "/usr/local/bin/etcd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts `size` members and waits until the cluster answers.
    public init(size: Int = 1) async throws {
        guard let binary = Self.binary else { throw EtcdError.unavailable("etcd is not installed (apt-get install etcd-server)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ports = try (0..<(2 * size)).map { _ in try Self.freePort() }
        let names = (0..<size).map { "m\($0)" }
        let initialCluster = names.indices.map { "\(names[$0])=http://127.0.0.1:\(ports[2 * $0 + 1])" }.joined(separator: ",")
        for index in 0..<size {
            let (client, peer) = (ports[2 * index], ports[2 * index + 1])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let lifeline = Pipe()
            process.standardInput = lifeline
            process.arguments = ["-c", "\"$0\" \"$@\" <&- & etcd=$!; cat >/dev/null; kill -9 $etcd; wait $etcd", binary,
                "--name", names[index],
                "--data-dir", directory.appendingPathComponent(names[index]).path,
                "--listen-client-urls", "http://127.0.0.1:\(client)", "--advertise-client-urls", "http://127.0.0.1:\(client)",
                "--listen-peer-urls", "http://127.0.0.1:\(peer)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(peer)",
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new",
                "--initial-cluster-token", directory.lastPathComponent,
            ]
            process.standardOutput = FileHandle.nullDevice
            let log = directory.appendingPathComponent("\(names[index]).log")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            members.append(Member(name: names[index], clientPort: client, peerPort: peer, process: process, lifeline: lifeline))
        }
        endpoints = EtcdEndpoints(members: members.map { .init(host: "127.0.0.1", port: $0.clientPort) })
        // Until every member answers: a member that has just started may accept connections before it serves.
        let deadline = ContinuousClock.now + .seconds(20)
        for member in members {
            let client = try EtcdClient(endpoints: EtcdEndpoints(members: [.init(host: "127.0.0.1", port: member.clientPort)]))
            defer { client.close() }
            while true {
                do {
                    _ = try await client.status(timeout: .seconds(2))
                    break
                } catch EtcdError.unavailable where ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
        }
    }

    deinit { stop() }

    /// Kills every member (SIGKILL, as a crash would, through its lifeline) and removes the data.
    public func stop() {
        for member in members where member.process.isRunning {
            try? member.lifeline.fileHandleForWriting.close()
            member.process.waitUntilExit()
        }
        members.removeAll()
        try? FileManager.default.removeItem(at: directory)
    }

    static func freePort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw EtcdError.unavailable("no socket for a free port") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw EtcdError.unavailable("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
