import Crypto
import Foundation

/// A request as it arrived, before any decoding: what a SigV4 signature covers.
public struct SignableRequest: Sendable {
    public var method: String
    /// The path exactly as sent, still percent-encoded.
    public var rawPath: String
    /// The query string exactly as sent (without `?`), still percent-encoded.
    public var rawQuery: String
    /// Header names (lowercased, as SigV4 compares them) and values as sent; `host` must be among them.
    public var headers: [(name: String, value: String)] {
        didSet { headers = Self.lowercasingNames(headers) }
    }
    public var body: [UInt8]

    public init(method: String, rawPath: String, rawQuery: String,
                headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = Self.lowercasingNames(headers)
        self.body = body
    }

    private static func lowercasingNames(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        guard headers.contains(where: { $0.name.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) } }) else { return headers }
        return headers.map { (name: $0.name.lowercased(), value: $0.value) }
    }

    /// `name` lowercased.
    func headerValues(_ name: String) -> [String] {
        headers.compactMap { $0.name == name ? $0.value : nil }
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
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(upperHexDigits[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(upperHexDigits[Int(byte & 0xF)]))
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
        // Most values have nothing to fold: no tab, no space at either end, no two spaces in a row.
        var previous: UInt8 = UInt8(ascii: " ")
        var clean = true
        for byte in value.utf8 {
            if byte == UInt8(ascii: "\t") || (byte == UInt8(ascii: " ") && previous == UInt8(ascii: " ")) {
                clean = false
                break
            }
            previous = byte
        }
        if clean && previous != UInt8(ascii: " ") { return value }
        return value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
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

    private static let lowerHexDigits = Array("0123456789abcdef".utf8)
    private static let upperHexDigits = Array("0123456789ABCDEF".utf8)

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for byte in digest {
            bytes.append(lowerHexDigits[Int(byte >> 4)])
            bytes.append(lowerHexDigits[Int(byte & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC, the form of `X-Amz-Date`.
    public static func formatAmzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let (year, month, day) = civil(fromDays: days)
        let time = seconds - days * 86_400
        func digits(_ value: Int64, _ count: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, count - text.count)) + text
        }
        return digits(year, 4) + digits(month, 2) + digits(day, 2) + "T" + digits(time / 3600, 2) + digits(time / 60 % 60, 2)
            + digits(time % 60, 2) + "Z"
    }

    /// Parses `X-Amz-Date`; nil unless it is a real UTC date and time in that form.
    static func parseAmzDate(_ text: String) -> Date? {
        var chars = text.utf8.makeIterator()
        var fields: [Int64] = []
        fields.reserveCapacity(6)
        // Widths of YYYY MM DD, then HH MM SS after the `T`.
        for (index, width) in [4, 2, 2, 2, 2, 2].enumerated() {
            if index == 3 { guard chars.next() == UInt8(ascii: "T") else { return nil } }
            var value: Int64 = 0
            for _ in 0..<width {
                guard let char = chars.next(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(char) else { return nil }
                value = value * 10 + Int64(char - UInt8(ascii: "0"))
            }
            fields.append(value)
        }
        guard chars.next() == UInt8(ascii: "Z"), chars.next() == nil else { return nil }
        let (year, month, day, hour, minute, second) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5])
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 60 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second))
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
