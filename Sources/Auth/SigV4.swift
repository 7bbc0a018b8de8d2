import Crypto
import Foundation

/// A request as it arrived, before any decoding: what a SigV4 signature covers.
public struct SignableRequest: Sendable {
    public var method: String
    /// The path exactly as sent, still percent-encoded.
    public var rawPath: String
    /// The query string exactly as sent (without `?`), still percent-encoded.
    public var rawQuery: String
    /// Header names and values as sent; `host` must be among them.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, rawPath: String, rawQuery: String,
                headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
    }

    func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name }.map(\.value)
    }

    public func header(_ name: String) -> String? {
        let values = headerValues(name)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// Query parameters, percent-decoded, in the order sent.
    public var queryItems: [(name: String, value: String)] {
        Self.decodeForm(rawQuery, plusIsSpace: false)
    }

    /// Splits `a=1&b=2`, percent-decoding names and values. HTML forms (the
    /// query protocol's bodies) encode a space as `+`; URL queries do not.
    public static func decodeForm(_ form: String, plusIsSpace: Bool) -> [(name: String, value: String)] {
        form.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let text = plusIsSpace ? s.replacingOccurrences(of: "+", with: " ") : String(s)
                return text.removingPercentEncoding ?? text
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}

/// The pieces of AWS Signature Version 4 (HMAC-SHA256) that signing and verifying share.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// RFC 3986 encoding as SigV4 wants it: everything but `A-Za-z0-9-._~` is `%XX`.
    public static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Every service but S3 encodes the already-encoded path once more.
    static func canonicalURI(rawPath: String) -> String {
        rawPath.isEmpty ? "/" : uriEncode(rawPath, keepSlash: true)
    }

    static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        // Encoded names and values are ASCII, so String order is the byte order SigV4 asks for.
        let encoded: [(name: String, value: String)] = items.map { (uriEncode($0.name), uriEncode($0.value)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }

    /// Header values with their outer space trimmed and inner runs of space folded to one.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func canonicalRequest(_ request: SignableRequest, signedHeaders: [String],
                                 queryItems: [(name: String, value: String)], payloadHash: String) -> String {
        let headerLines = signedHeaders.map { name in
            "\(name):\(request.headerValues(name).map(canonicalHeaderValue).joined(separator: ","))\n"
        }.joined()
        return [
            request.method,
            canonicalURI(rawPath: request.rawPath),
            canonicalQuery(queryItems),
            headerLines,
            signedHeaders.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
    }

    static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [algorithm, amzDate, scope, hexSHA256(Array(canonicalRequest.utf8))].joined(separator: "\n")
    }

    static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    static func signature(stringToSign: String, key: SymmetricKey) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
    }

    public static func hexSHA256(_ bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC, the form of `X-Amz-Date`.
    public static func formatAmzDate(_ date: Date) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func parseAmzDate(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count == 16, chars[8] == UInt8(ascii: "T"), chars[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            chars[range].allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                ? Int(String(decoding: chars[range], as: UTF8.self)) : nil
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8),
              let hour = number(9..<11), let minute = number(11..<13), let second = number(13..<15) else { return nil }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard components.isValidDate(in: utcCalendar) else { return nil }
        return utcCalendar.date(from: components)
    }
}
