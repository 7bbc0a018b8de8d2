import NIOCore
import NIOHTTP2

/// Drops the bandwidth-estimation PING that etcd's gRPC server (grpc-go) sends after the data of each request.
///
/// grpc-go sends one such PING per round trip until its estimate of the connection's bandwidth-delay product
/// grows, which small etcd requests never make it do: a PING per call. SwiftNIO's HTTP/2 handler counts PINGs
/// as a flood above 200 in 30 s and closes the connection, and gRPC Swift gives no way to raise that limit.
/// grpc-go sends the next estimation PING only after the previous one is acknowledged, so dropping the first
/// (recognised by grpc-go's fixed payload) ends them for the connection. Every other frame, keepalive PINGs
/// included, passes untouched.
///
/// It sits between TLS (if any) and the HTTP/2 handler, so it reads the server's frames in the clear.
final class BDPPingFilter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// grpc-go's `bdpPing` payload.
    static let payload: [UInt8] = [2, 4, 16, 16, 9, 14, 7, 7]
    static let frameHeaderLength = 9
    static let pingType: UInt8 = 6

    /// Bytes read but not yet passed on: at most one incomplete frame header or PING frame.
    private var pending: ByteBuffer?
    /// Bytes of the current frame's payload still to pass through before the next frame header.
    private var remainingPayload = 0

    static func install(_ channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let http2 = try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self)
            try channel.pipeline.syncOperations.addHandler(BDPPingFilter(), position: .before(http2))
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var held = pending {
            held.writeBuffer(&buffer)
            buffer = held
            pending = nil
        }
        var output = context.channel.allocator.buffer(capacity: buffer.readableBytes)
        while buffer.readableBytes > 0 {
            if remainingPayload > 0 {
                let count = min(remainingPayload, buffer.readableBytes)
                var slice = buffer.readSlice(length: count)!
                output.writeBuffer(&slice)
                remainingPayload -= count
                continue
            }
            guard buffer.readableBytes >= Self.frameHeaderLength,
                  let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map({ Int($0 >> 8) }),
                  let type = buffer.getInteger(at: buffer.readerIndex + 3, as: UInt8.self) else {
                pending = buffer.readSlice(length: buffer.readableBytes)
                break
            }
            if type == Self.pingType, length == Self.payload.count {
                guard buffer.readableBytes >= Self.frameHeaderLength + length else {
                    pending = buffer.readSlice(length: buffer.readableBytes)
                    break
                }
                let flags = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self)!
                let body = buffer.getBytes(at: buffer.readerIndex + Self.frameHeaderLength, length: length)!
                var frame = buffer.readSlice(length: Self.frameHeaderLength + length)!
                // An ACK (flag 1) or any other PING goes on; only grpc-go's estimation PING stops here.
                if flags & 1 == 1 || body != Self.payload { output.writeBuffer(&frame) }
                continue
            }
            var header = buffer.readSlice(length: Self.frameHeaderLength)!
            output.writeBuffer(&header)
            remainingPayload = length
        }
        if output.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(output)) }
    }
}
