import ClusterRuntime
import EKS
import Foundation
import Logging
import PKI
import SkiffServer
import KubeModel

/// The benchmark's control plane in a process of its own (`skiff bench serve`), so that the server's CPU
/// time is measured apart from the load generator's.
struct ControlPlaneProcess {
    /// What the parent needs to reach it: the endpoint, the CA, and an admin client certificate.
    struct Access: Codable {
        let endpoint: String
        let certificateAuthorityPEM: String
        let clientCertificatePEM: String
        let clientKeyPEM: String
    }

    let process: Process
    let access: Access

    /// Starts `skiff bench serve` and waits for the line saying where it listens.
    static func start(directory: URL) throws -> ControlPlaneProcess {
        let process = Process()
        process.executableURL = selfExecutable
        process.arguments = ["bench", "serve", "--work-dir", directory.path]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            guard !byte.isEmpty else { throw BenchFailure(status: 0) }
            if byte == Data("\n".utf8) { break }
            line += byte
        }
        // The child stops when this pipe closes, with the parent if need be.
        return ControlPlaneProcess(process: process, access: try JSONDecoder().decode(Access.self, from: line), stdin: input)
    }

    private let stdin: Pipe

    private init(process: Process, access: Access, stdin: Pipe) {
        self.process = process
        self.access = access
        self.stdin = stdin
    }

    /// User and system CPU time the server has used, in seconds.
    var cpuSeconds: Double { ProcessCPU.seconds(of: process.processIdentifier) }

    /// This `skiff` binary, which the benchmarks start again as their servers.
    static var selfExecutable: URL {
        let invoked = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        if !FileManager.default.isExecutableFile(atPath: invoked.path), let path = Bundle.main.executablePath {
            return URL(fileURLWithPath: path)
        }
        return invoked
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// The child's side: serve one cluster until standard input closes.
    static func serve(directory: URL) async throws {
        let authority = try CertificateAuthority.create()
        let port = LoopbackPorts.free(host: "127.0.0.1") ?? 16443
        let spec = ControlPlaneSpec(clusterName: "bench", kubernetesVersion: "1.34.1", endpoint: "https://127.0.0.1:\(port)",
                                    certificateAuthority: authority, serviceIpv4Cidr: "10.100.0.0/16")
        let runtimes = ClusterRuntimes(directory: directory.appendingPathComponent("served-clusters"), logger: Logger(label: "bench"))
        try await runtimes.ensureRunning(spec)
        let admin = try authority.issueClient(user: "bench", groups: ["system:masters"])
        let access = Access(endpoint: spec.endpoint, certificateAuthorityPEM: authority.certificatePEM,
                            clientCertificatePEM: admin.certificatePEM, clientKeyPEM: admin.privateKeyPEM)
        FileHandle.standardOutput.write(try JSONEncoder().encode(access) + Data("\n".utf8))
        // Until the parent closes our standard input (or exits).
        await Task.detached { _ = FileHandle.standardInput.readDataToEndOfFile() }.value
        await runtimes.stopAll()
    }
}
