import Hummingbird
import HummingbirdCore
import KubeAPI
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// A cluster API server's connections: TLS, then HTTP/2 or HTTP/1.1 as ALPN decides. HTTP/1.1 goes to
/// Hummingbird's channel; HTTP/2 streams are served by `HTTP2StreamHandler`, one small handler per
/// stream instead of an async channel and a task, and with kube-apiserver's stream limit.
struct ClusterServerChannel: ServerChildChannel {
    enum Negotiated: Sendable {
        case http1(HTTP1Channel.Value)
        case http2
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let sslContext: NIOSSLContext
    let http1: HTTP1Channel
    let serve: HTTP2StreamHandler.Serve

    /// Streams one connection may have open at once, as kube-apiserver allows.
    static let maxConcurrentStreams = 1000

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
            let negotiation = NIOTypedApplicationProtocolNegotiationHandler<Negotiated> { result, channel in
                switch result {
                case .negotiated("h2"):
                    return channel.eventLoop.makeCompletedFuture {
                        let settings = nioDefaultSettings.map { setting in
                            setting.parameter == .maxConcurrentStreams
                                ? HTTP2Setting(parameter: .maxConcurrentStreams, value: Self.maxConcurrentStreams) : setting
                        }
                        var connection = NIOHTTP2Handler.ConnectionConfiguration()
                        connection.initialSettings = settings
                        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .server, connectionConfiguration: connection, streamConfiguration: .init()
                        ) { stream in
                            stream.eventLoop.makeCompletedFuture {
                                try stream.pipeline.syncOperations.addHandlers([HTTP2FramePayloadToHTTP1ServerCodec(),
                                                                                  HTTP2StreamHandler(serve: serve)])
                            }
                        }
                        return .http2
                    }
                case .negotiated("http/1.1"), .fallback:
                    return http1.setup(channel: channel, logger: logger).map { .http1($0) }
                case .negotiated:
                    return channel.close().flatMap { channel.eventLoop.makeFailedFuture(NIOHTTP2Errors.invalidALPNToken()) }
                }
            }
            try channel.pipeline.syncOperations.addHandler(negotiation)
            return Value(negotiated: negotiation.protocolNegotiationResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .http1(let http1Value):
                await http1.handle(value: http1Value, logger: logger)
            case .http2:
                // Streams are served by their handlers; the connection lives until either side closes it.
                try await withTaskCancellationHandler {
                    try await value.channel.closeFuture.get()
                } onCancel: {
                    value.channel.close(promise: nil)
                }
            }
        } catch {
            logger.debug("connection ended: \(error)")
        }
    }
}

/// One HTTP/2 stream: collects the request, answers it from a task, writes the response (a stream of
/// chunks for watches, with each write awaited so a slow client holds the producer back).
final class HTTP2StreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The request as parsed here, and the stream it came on (for the TLS connection's credentials).
    typealias Serve = @Sendable (_ head: HTTPRequestHead, _ body: [UInt8]?, _ stream: any Channel) async -> APIResponse

    let serve: Serve
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// The body passed the limit: it is dropped, and the request answered 413.
    private var tooLarge = false

    init(serve: @escaping Serve) {
        self.serve = serve
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(let buffer):
            if tooLarge || body.count + buffer.readableBytes > APIServer.maxRequestBody {
                tooLarge = true
                body = []
            } else {
                body.append(contentsOf: buffer.readableBytesView)
            }
        case .end:
            guard let head else { return }
            respond(head: head, body: tooLarge ? nil : body, channel: context.channel)
        }
    }

    private func respond(head: HTTPRequestHead, body: [UInt8]?, channel: any Channel) {
        let serve = serve
        let task = Task {
            let response = await serve(head, body, channel)
            var headers = HTTPHeaders()
            for (name, value) in response.headers where name != "Transfer-Encoding" { headers.add(name: name, value: value) }
            if case .bytes(let bytes) = response.body { headers.replaceOrAdd(name: "content-length", value: String(bytes.count)) }
            let responseHead = HTTPResponseHead(version: .http2, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
            switch response.body {
            case .bytes(let bytes):
                channel.write(HTTPServerResponsePart.head(responseHead), promise: nil)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes))), promise: nil)
                channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
            case .stream(let chunks):
                do {
                    try await channel.writeAndFlush(HTTPServerResponsePart.head(responseHead))
                    for try await chunk in chunks {
                        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk))))
                    }
                    try await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
                } catch {
                    channel.close(promise: nil)
                }
            }
        }
        // A stream the client closes (a watch it stops) ends the task that feeds it.
        channel.closeFuture.whenComplete { _ in task.cancel() }
    }
}
