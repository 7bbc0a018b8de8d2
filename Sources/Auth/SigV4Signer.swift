import Foundation

/// Signs requests with SigV4 in the `Authorization` header, as AWS clients do; Skiff's own
/// command line uses it to talk to a running Skiff like any AWS client.
public struct SigV4Signer: Sendable {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let region: String
    public let service: String

    public init(accessKeyId: String, secretAccessKey: String, region: String, service: String) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// The headers to add: `X-Amz-Date`, `X-Amz-Content-Sha256` and `Authorization`.
    public func sign(method: String, url: URL, headers: [(String, String)] = [], body: [UInt8] = [],
                     date: Date = Date()) -> [(String, String)] {
        let amzDate = SigV4.formatAmzDate(date)
        let payloadHash = SigV4.hexSHA256(body)
        var host = url.host ?? ""
        if let port = url.port { host += ":\(port)" }
        let all: [(name: String, value: String)] = headers.map { (name: $0.0, value: $0.1) }
            + [(name: "host", value: host), (name: "x-amz-date", value: amzDate), (name: "x-amz-content-sha256", value: payloadHash)]
        let rawPath = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? "/"
        let rawQuery = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedQuery ?? ""
        let request = SignableRequest(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: all, body: body)
        let signedHeaders = Set(all.map { $0.name.lowercased() }).sorted()
        let date = String(amzDate.prefix(8))
        let scope = "\(date)/\(region)/\(service)/aws4_request"
        let canonical = SigV4.canonicalRequest(request, signedHeaders: signedHeaders, queryItems: request.queryItems,
                                               payloadHash: payloadHash)
        let signature = SigV4.signature(stringToSign: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical),
                                        key: SigV4.signingKey(secret: secretAccessKey, date: date, region: region, service: service))
        return [("X-Amz-Date", amzDate), ("X-Amz-Content-Sha256", payloadHash),
                ("Authorization", "\(SigV4.algorithm) Credential=\(accessKeyId)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), Signature=\(signature)")]
    }

    /// `url` with the SigV4 query parameters that let anyone holding it make the request, as SDKs presign
    /// (`aws eks get-token` presigns STS `GetCallerIdentity` with the header `x-k8s-aws-id`).
    public func presign(method: String = "GET", url: URL, headers: [(String, String)] = [], expires: Int,
                        date: Date = Date()) -> URL {
        let amzDate = SigV4.formatAmzDate(date)
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        var host = url.host ?? ""
        if let port = url.port { host += ":\(port)" }
        let all: [(name: String, value: String)] = [(name: "host", value: host)] + headers.map { (name: $0.0.lowercased(), value: $0.1) }
        let signedHeaders = Set(all.map(\.name)).sorted()
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        let existing = SignableRequest.decodeForm(components.percentEncodedQuery ?? "", plusIsSpace: false)
        let query = existing + [
            (name: "X-Amz-Algorithm", value: SigV4.algorithm), (name: "X-Amz-Credential", value: "\(accessKeyId)/\(scope)"),
            (name: "X-Amz-Date", value: amzDate), (name: "X-Amz-Expires", value: String(expires)),
            (name: "X-Amz-SignedHeaders", value: signedHeaders.joined(separator: ";")),
        ]
        let request = SignableRequest(method: method, rawPath: components.percentEncodedPath, rawQuery: "", headers: all, body: [])
        let canonical = SigV4.canonicalRequest(request, signedHeaders: signedHeaders, queryItems: query, payloadHash: SigV4.hexSHA256([]))
        let signature = SigV4.signature(stringToSign: SigV4.stringToSign(amzDate: amzDate, scope: scope, canonicalRequest: canonical),
                                        key: SigV4.signingKey(secret: secretAccessKey, date: day, region: region, service: service))
        components.percentEncodedQuery = (query + [(name: "X-Amz-Signature", value: signature)])
            .map { "\(SigV4.uriEncode($0.name))=\(SigV4.uriEncode($0.value))" }.joined(separator: "&")
        return components.url!
    }
}
