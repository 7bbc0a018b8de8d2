import Auth
import CloudTrail
import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import KubeModel
import Logging

/// The regional endpoint: verifies the SigV4 signature of every request and
/// hands it to the service named in its credential scope, as AWS's own
/// endpoints are chosen by host name.
public struct AWSEndpoint: Sendable {
    /// The largest request body accepted (EKS and EC2 requests are small).
    public static let maxBodySize = 10 * 1024 * 1024

    private let verifier: SigV4Verifier
    private let services: [String: any AWSService]
    private let fallback: any AWSService
    private let settle: @Sendable () async -> Void
    private let trail: TrailService?
    private let metrics: (any MetricsFactory)?
    private let logger: Logger

    /// - Parameter settle: runs before each verified request is handled: completes the timed transitions
    ///   already due, so that no request reads state behind the clock.
    ///   - trail: where each verified call becomes a CloudTrail management event.
    public init(verifier: SigV4Verifier, services: [any AWSService], settle: @escaping @Sendable () async -> Void = {},
                trail: TrailService? = nil, metrics: (any MetricsFactory)? = nil, logger: Logger) {
        self.verifier = verifier
        self.settle = settle
        self.trail = trail
        self.metrics = metrics
        self.services = Dictionary(uniqueKeysWithValues: services.map { ($0.signingName, $0) })
        self.fallback = services[0]
        self.logger = logger
    }

    public func respond(to request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let requestId = UUID().uuidString.lowercased()
        let target = request.head.path ?? "/"
        let split = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = String(split[0]), rawQuery = split.count > 1 ? String(split[1]) : ""
        var headers = request.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        // HTTP/1.1 `Host` arrives as the authority; SigV4 signs it as `host`.
        if let authority = request.head.authority { headers.append((name: "host", value: authority)) }

        let body: [UInt8]
        do {
            body = Array(buffer: try await request.collectBody(upTo: Self.maxBodySize))
        } catch {
            let tooLarge = AWSError(code: "RequestEntityTooLarge", message: "Request body exceeds \(Self.maxBodySize) bytes.", status: 413)
            return Self.httpResponse(fallback.wireProtocol.render(tooLarge, requestId: requestId), requestId: requestId)
        }
        let signable = SignableRequest(method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery,
                                       headers: headers, body: body)
        let claimed = Self.claimedSigningName(signable)
        let unsignedService = claimed == nil ? services.values.first { $0.acceptsUnsigned(signable) } : nil
        let service = unsignedService ?? services[claimed ?? ""] ?? fallback
        let started = ContinuousClock.now
        let response: AWSResponse
        var handled: AWSRequest?
        var failure: AWSError?
        do {
            // A call that needs no credentials runs as nobody; its service checks what it carries instead.
            let caller: VerifiedRequest
            if let unsignedService {
                caller = .unsigned(service: unsignedService.signingName)
            } else {
                caller = try await verifier.verify(signable)
            }
            await settle()
            let verified = AWSRequest(method: signable.method, rawPath: rawPath, query: signable.queryItems, headers: headers,
                                      body: body, caller: caller, requestId: requestId)
            handled = verified
            response = try await service.handle(verified)
        } catch let failure as SignatureFailure {
            response = service.wireProtocol.render(service.signatureErrors.error(for: failure), requestId: requestId)
        } catch {
            let mapped = service.awsError(for: error) ?? {
                logger.error("request failed", metadata: ["requestId": "\(requestId)", "error": "\(error)"])
                return AWSError(code: "InternalFailure", message: "The request processing has failed because of an unknown error.",
                                status: 500, senderFault: false)
            }()
            failure = mapped
            response = service.wireProtocol.render(mapped, requestId: requestId)
        }
        // The operation and its parameters, read once from the request for both the metrics and CloudTrail.
        let trailCall = handled.flatMap { service.trailCall($0) }
        if let metrics {
            // Per service and operation, as the regional endpoint's own metrics (the operation as CloudTrail names it).
            let operation = trailCall?.eventName
                ?? headers.first { $0.name.lowercased() == "x-amz-target" }.map { String($0.value.split(separator: ".").last ?? "") }
                ?? "unknown"
            let labels = [("service", service.signingName), ("operation", operation)]
            Counter(label: "skiff_aws_requests_total", dimensions: labels + [("code", String(response.status))], factory: metrics).increment()
            let elapsed = ContinuousClock.now - started
            Timer(label: "skiff_aws_request_duration_seconds", dimensions: labels, factory: metrics)
                .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        }
        if let trail, let handled, let call = trailCall {
            trail.record(RecordedCall(
                eventSource: "\(service.signingName).amazonaws.com", eventName: call.eventName,
                region: handled.caller.region.isEmpty ? "us-east-1" : handled.caller.region,
                caller: handled.caller.identity.arn.isEmpty ? nil : handled.caller,
                sourceIPAddress: (context as? any RemoteAddressContext)?.remoteIP ?? "127.0.0.1",
                userAgent: handled.header("user-agent") ?? "", requestParameters: call.parameters,
                responseElements: failure == nil && !RecordedCall.isReadOnly(call.eventName) ? Self.jsonObject(response) : nil,
                errorCode: failure?.code, errorMessage: failure?.message,
                requestId: requestId))
        }
        logger.debug("\(signable.method) \(rawPath) → \(response.status)", metadata: ["requestId": "\(requestId)"])
        return Self.httpResponse(response, requestId: requestId)
    }

    /// A JSON response's members, for CloudTrail's `responseElements`.
    static func jsonObject(_ response: AWSResponse) -> JSON? {
        guard response.headers.contains(where: { $0.name == "Content-Type" && $0.value.contains("json") }), !response.body.isEmpty,
              let object = try? JSONCoding.decode(response.body), case .object = object else { return nil }
        return object
    }

    /// The signing name a request claims, read before the signature is checked,
    /// so that even a refusal comes in the right service's error shape.
    static func claimedSigningName(_ request: SignableRequest) -> String? {
        let credential: Substring?
        if let authorization = request.headers.first(where: { $0.name.lowercased() == "authorization" })?.value,
           let range = authorization.range(of: "Credential=") {
            credential = authorization[range.upperBound...].prefix { $0 != "," }
        } else {
            credential = request.queryItems.first { $0.name == "X-Amz-Credential" }.map { Substring($0.value) }
        }
        let parts = credential?.split(separator: "/") ?? []
        return parts.count == 5 ? String(parts[3]) : nil
    }

    static func httpResponse(_ response: AWSResponse, requestId: String) -> Response {
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        fields.append(HTTPField(name: HTTPField.Name("x-amzn-RequestId")!, value: requestId))
        return Response(status: HTTPResponse.Status(code: response.status), headers: fields,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: response.body)))
    }
}

/// A request context that knows the client's address, as CloudTrail's `sourceIPAddress` shows it.
public protocol RemoteAddressContext {
    var remoteIP: String? { get }
}
