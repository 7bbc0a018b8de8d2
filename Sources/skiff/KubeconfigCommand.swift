import ArgumentParser
import Auth
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
import KubeModel
#endif

/// `skiff kubeconfig --cluster NAME`: asks the running Skiff for an administrator kubeconfig,
/// signing the request like any AWS client, so it works from any directory.
struct Kubeconfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a kubeconfig for a cluster's administrator (a client certificate in system:masters).")

    @Option(help: "The cluster's name.") var cluster: String
    @Option(name: .customLong("endpoint-url"), help: "The running Skiff (default: $AWS_ENDPOINT_URL or http://127.0.0.1:4566).")
    var endpointURL: String?
    @Option(help: "The region (default: $AWS_DEFAULT_REGION, $AWS_REGION or us-east-1).") var region: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let base = endpointURL ?? environment["AWS_ENDPOINT_URL"] ?? "http://127.0.0.1:4566"
        let region = region ?? environment["AWS_DEFAULT_REGION"] ?? environment["AWS_REGION"] ?? "us-east-1"
        let encoded = cluster.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cluster
        guard let url = URL(string: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/_skiff/clusters/\(encoded)/kubeconfig") else {
            throw ValidationError("invalid endpoint URL \(base)")
        }
        let signer = SigV4Signer(accessKeyId: environment["AWS_ACCESS_KEY_ID"] ?? "test",
                                 secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "test", region: region, service: "skiff")
        var request = URLRequest(url: url)
        for (name, value) in signer.sign(method: "GET", url: url) { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard status == 200 else {
            let message = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["message"] as? String
            let code = (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "x-amzn-ErrorType") ?? "HTTP \(status)"
            throw KubeconfigError(message: "\(code): \(message ?? String(decoding: data, as: UTF8.self))")
        }
        print(String(decoding: data, as: UTF8.self), terminator: "")
    }
}

struct KubeconfigError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
