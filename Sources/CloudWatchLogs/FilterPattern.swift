import Foundation

/// A CloudWatch Logs filter pattern, parsed once and matched against each event's message:
/// terms (`ERROR`, `"quoted phrase"`; all must appear), optional terms (`?ERROR ?WARN`; one must),
/// excluded terms (`-DEBUG`), or a JSON selector expression (`{ $.user.id = 7 && $.level != "debug*" }`,
/// with `=`, `!=`, `<`, `<=`, `>`, `>=`, `IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`, `&&`, `||`, parentheses,
/// `*` wildcards in strings). Terms match case-sensitively, as the service matches them.
public enum FilterPattern: Sendable, Equatable {
    case everything
    case terms(required: [[UInt8]], optional: [[UInt8]], excluded: [[UInt8]])
    /// The condition, and text every matching message must hold (found bytewise before any parsing).
    indirect case json(JSONCondition, literals: [[UInt8]])

    public indirect enum JSONCondition: Sendable, Equatable {
        case and(JSONCondition, JSONCondition)
        case or(JSONCondition, JSONCondition)
        case compare(JSONSelector, Comparison, JSONValue)
        case isNull(JSONSelector), isTrue(JSONSelector), isFalse(JSONSelector), notExists(JSONSelector), exists(JSONSelector)
    }

    public enum Comparison: String, Sendable { case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=" }

    public enum JSONValue: Sendable, Equatable {
        case string(String)
        case number(Double)
    }

    /// `$.a.b[0]`: object keys and array indexes.
    public struct JSONSelector: Sendable, Equatable {
        public enum Step: Sendable, Equatable { case key(String), index(Int) }
        public let steps: [Step]
    }

    /// Parses `text`; throws the service's `InvalidParameterException` for a pattern it cannot read.
    public init(_ text: String) throws(LogsError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            self = .everything
        } else if trimmed.hasPrefix("{") {
            var parser = JSONPatternParser(Array(trimmed.unicodeScalars))
            let condition = try parser.parsePattern()
            self = .json(condition, literals: condition.requiredLiterals.map { Array($0.utf8) })
        } else {
            self = try Self.terms(trimmed)
        }
    }

    static func invalid() -> LogsError { .invalidParameter("Invalid filter pattern") }

    private static func terms(_ text: String) throws(LogsError) -> FilterPattern {
        var required: [[UInt8]] = [], optional: [[UInt8]] = [], excluded: [[UInt8]] = []
        var scalars = Substring(text)
        while true {
            scalars = scalars.drop { $0 == " " || $0 == "\t" }
            guard let first = scalars.first else { break }
            var kind = 0
            if first == "?" { kind = 1; scalars = scalars.dropFirst() }
            else if first == "-", scalars.count > 1 { kind = 2; scalars = scalars.dropFirst() }
            let term: String
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                var phrase = ""
                var closed = false
                while let character = scalars.first {
                    scalars = scalars.dropFirst()
                    if character == "\\", let next = scalars.first { phrase.append(next); scalars = scalars.dropFirst(); continue }
                    if character == "\"" { closed = true; break }
                    phrase.append(character)
                }
                guard closed else { throw invalid() }
                term = phrase
            } else {
                let word = scalars.prefix { $0 != " " && $0 != "\t" }
                scalars = scalars.dropFirst(word.count)
                // Bare terms are words: anything else must be quoted.
                guard word.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "_.:/@=*".unicodeScalars.contains($0) })
                else { throw invalid() }
                term = String(word)
            }
            guard !term.isEmpty else { continue }
            switch kind {
            case 1: optional.append(Array(term.utf8))
            case 2: excluded.append(Array(term.utf8))
            default: required.append(Array(term.utf8))
            }
        }
        if required.isEmpty, optional.isEmpty, excluded.isEmpty { return .everything }
        return .terms(required: required, optional: optional, excluded: excluded)
    }

    /// Conditions on the message that SQLite checks before a row is read (`instr` is bytewise, as matching is):
    /// every required term and JSON literal, one of the optional terms, none of the excluded ones.
    public var storageConditions: (sql: String, arguments: [String]) {
        var clauses: [String] = [], arguments: [String] = []
        func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
        switch self {
        case .everything:
            break
        case .terms(let required, let optional, let excluded):
            for term in required { clauses.append("instr(message, ?) > 0"); arguments.append(text(term)) }
            if !optional.isEmpty {
                clauses.append("(" + optional.map { _ in "instr(message, ?) > 0" }.joined(separator: " OR ") + ")")
                arguments += optional.map(text)
            }
            for term in excluded { clauses.append("instr(message, ?) = 0"); arguments.append(text(term)) }
        case .json(_, let literals):
            for literal in literals { clauses.append("instr(message, ?) > 0"); arguments.append(text(literal)) }
        }
        return (clauses.map { " AND " + $0 }.joined(), arguments)
    }

    /// An FTS5 query over the messages' trigrams that every match satisfies, when the pattern has terms long
    /// enough for trigrams (three bytes); nil when the index cannot narrow the search.
    public var textIndexQuery: String? {
        func phrase(_ bytes: [UInt8]) -> String { "\"" + String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var parts: [String] = []
        switch self {
        case .everything:
            return nil
        case .terms(let required, let optional, _):
            parts = required.filter { $0.count >= 3 }.map(phrase)
            if !optional.isEmpty, optional.allSatisfy({ $0.count >= 3 }) {
                parts.append("(" + optional.map(phrase).joined(separator: " OR ") + ")")
            }
        case .json(_, let literals):
            parts = literals.filter { $0.count >= 3 }.map(phrase)
        }
        return parts.isEmpty ? nil : parts.joined(separator: " AND ")
    }

    public func matches(_ message: String) -> Bool {
        switch self {
        case .everything:
            return true
        case .terms(let required, let optional, let excluded):
            var message = message
            return message.withUTF8 { bytes in
                required.allSatisfy { Self.contains(bytes, $0) } && (optional.isEmpty || optional.contains { Self.contains(bytes, $0) })
                    && !excluded.contains { Self.contains(bytes, $0) }
            }
        case .json(let condition, let literals):
            var message = message
            let possible = message.withUTF8 { bytes in
                bytes.first { $0 != UInt8(ascii: " ") } == UInt8(ascii: "{") && literals.allSatisfy { Self.contains(bytes, $0) }
            }
            guard possible, let document = EventJSON.parse(message) else { return false }
            return condition.holds(for: document)
        }
    }

    /// Whether `needle` occurs in `haystack`, bytewise.
    static func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        let count = needle.count
        guard haystack.count >= count else { return false }
        var index = 0
        let last = haystack.count - count
        while index <= last {
            if haystack[index] == first {
                var offset = 1
                while offset < count, haystack[index + offset] == needle[offset] { offset += 1 }
                if offset == count { return true }
            }
            index += 1
        }
        return false
    }
}

extension FilterPattern.JSONSelector {
    /// The value the selector reaches in a document, if any.
    func value(in document: EventJSON) -> EventJSON? {
        var current: EventJSON? = document
        for step in steps {
            switch (step, current) {
            case (.key(let key), .object(let object)?): current = object[key]
            case (.index(let index), .array(let array)?) where array.indices.contains(index): current = array[index]
            default: return nil
            }
        }
        return current
    }
}

extension FilterPattern.JSONCondition {
    /// Text that any message this holds for must contain: the plain parts of the values it needs equal (as
    /// JSON writes them unescaped). An `||` needs none of its sides' for sure, so it contributes nothing.
    var requiredLiterals: [String] {
        switch self {
        case .and(let left, let right): return left.requiredLiterals + right.requiredLiterals
        case .compare(_, .equal, .string(let pattern)):
            let parts: [Substring] = pattern.split(separator: Character("*"), omittingEmptySubsequences: true)
            let longest = String(parts.max { $0.count < $1.count } ?? "")
            let plain = longest.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && !"\"\\/".unicodeScalars.contains($0) }
            return plain && !longest.isEmpty ? [longest] : []
        case .compare(_, .equal, .number(let number)):
            return number == number.rounded() && abs(number) < 1e15 ? [String(Int64(number))] : []
        default: return []
        }
    }

    func holds(for document: EventJSON) -> Bool {
        switch self {
        case .and(let left, let right): return left.holds(for: document) && right.holds(for: document)
        case .or(let left, let right): return left.holds(for: document) || right.holds(for: document)
        case .isNull(let selector): return selector.value(in: document) == .null
        case .isTrue(let selector): return selector.value(in: document) == .bool(true)
        case .isFalse(let selector): return selector.value(in: document) == .bool(false)
        case .notExists(let selector): return selector.value(in: document) == nil
        case .exists(let selector): return selector.value(in: document) != nil
        case .compare(let selector, let comparison, let expected):
            guard let found = selector.value(in: document), found != .null else { return false }
            switch expected {
            case .number(let number):
                guard case .number(let actual) = found else { return comparison == .notEqual }
                switch comparison {
                case .equal: return actual == number
                case .notEqual: return actual != number
                case .less: return actual < number
                case .lessOrEqual: return actual <= number
                case .greater: return actual > number
                case .greaterOrEqual: return actual >= number
                }
            case .string(let pattern):
                guard let actual = found.scalarText else { return comparison == .notEqual }
                switch comparison {
                case .equal: return Self.wildcard(pattern, matches: actual)
                case .notEqual: return !Self.wildcard(pattern, matches: actual)
                default: return false
                }
            }
        }
    }

    /// `*` matches any run of characters; everything else literally.
    static func wildcard(_ pattern: String, matches value: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == value }
        var rest = Substring(value)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let range = rest.range(of: part) else { return false }
            rest = rest[range.upperBound...]
        }
        return rest.hasSuffix(parts[parts.count - 1])
    }
}

/// Reads `{ … }` selector expressions.
struct JSONPatternParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
    }

    mutating func parsePattern() throws(LogsError) -> FilterPattern.JSONCondition {
        try expect("{")
        let condition = try parseOr()
        try expect("}")
        skipSpaces()
        guard position == scalars.count else { throw FilterPattern.invalid() }
        return condition
    }

    private mutating func parseOr() throws(LogsError) -> FilterPattern.JSONCondition {
        var condition = try parseAnd()
        while consume("||") { condition = .or(condition, try parseAnd()) }
        return condition
    }

    private mutating func parseAnd() throws(LogsError) -> FilterPattern.JSONCondition {
        var condition = try parseUnary()
        while consume("&&") { condition = .and(condition, try parseUnary()) }
        return condition
    }

    private mutating func parseUnary() throws(LogsError) -> FilterPattern.JSONCondition {
        if consume("(") {
            let inner = try parseOr()
            try expect(")")
            return inner
        }
        let selector = try parseSelector()
        if consumeWord("IS") {
            if consumeWord("NULL") { return .isNull(selector) }
            if consumeWord("TRUE") { return .isTrue(selector) }
            if consumeWord("FALSE") { return .isFalse(selector) }
            throw FilterPattern.invalid()
        }
        if consumeWord("NOT") {
            guard consumeWord("EXISTS") else { throw FilterPattern.invalid() }
            return .notExists(selector)
        }
        if consumeWord("EXISTS") { return .exists(selector) }
        for comparison in [FilterPattern.Comparison.notEqual, .lessOrEqual, .greaterOrEqual, .equal, .less, .greater]
        where consume(comparison.rawValue) {
            return .compare(selector, comparison, try parseValue(numericOnly: ![.equal, .notEqual].contains(comparison)))
        }
        throw FilterPattern.invalid()
    }

    private mutating func parseSelector() throws(LogsError) -> FilterPattern.JSONSelector {
        skipSpaces()
        guard peek() == "$" else { throw FilterPattern.invalid() }
        position += 1
        var steps: [FilterPattern.JSONSelector.Step] = []
        while let next = peek() {
            if next == "." {
                position += 1
                let key = take { CharacterSet.alphanumerics.contains($0) || $0 == "_" || $0 == "-" || $0 == "@" || $0 == ":" }
                guard !key.isEmpty else { throw FilterPattern.invalid() }
                steps.append(.key(key))
            } else if next == "[" {
                position += 1
                let digits = take { ("0"..."9").contains($0) }
                guard let index = Int(digits), peek() == "]" else { throw FilterPattern.invalid() }
                position += 1
                steps.append(.index(index))
            } else {
                break
            }
        }
        guard !steps.isEmpty else { throw FilterPattern.invalid() }
        return FilterPattern.JSONSelector(steps: steps)
    }

    private mutating func parseValue(numericOnly: Bool) throws(LogsError) -> FilterPattern.JSONValue {
        skipSpaces()
        if peek() == "\"" {
            guard !numericOnly else { throw FilterPattern.invalid() }
            position += 1
            var text = ""
            while let scalar = peek(), scalar != "\"" {
                if scalar == "\\", position + 1 < scalars.count { position += 1 }
                text.unicodeScalars.append(scalars[position])
                position += 1
            }
            guard peek() == "\"" else { throw FilterPattern.invalid() }
            position += 1
            return .string(text)
        }
        let word = take { !" \t)}&|".unicodeScalars.contains($0) }
        guard !word.isEmpty else { throw FilterPattern.invalid() }
        if let number = Double(word) { return .number(number) }
        guard !numericOnly else { throw FilterPattern.invalid() }
        return .string(word)
    }

    private func peek() -> Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    private mutating func skipSpaces() {
        while let scalar = peek(), scalar == " " || scalar == "\t" { position += 1 }
    }

    private mutating func take(while keep: (Unicode.Scalar) -> Bool) -> String {
        var text = ""
        while let scalar = peek(), keep(scalar) {
            text.unicodeScalars.append(scalar)
            position += 1
        }
        return text
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpaces()
        let tokenScalars = Array(token.unicodeScalars)
        guard position + tokenScalars.count <= scalars.count, Array(scalars[position..<position + tokenScalars.count]) == tokenScalars
        else { return false }
        position += tokenScalars.count
        return true
    }

    private mutating func consumeWord(_ word: String) -> Bool {
        let start = position
        guard consume(word) else { return false }
        if let next = peek(), CharacterSet.alphanumerics.contains(next) {
            position = start
            return false
        }
        return true
    }

    private mutating func expect(_ token: String) throws(LogsError) {
        guard consume(token) else { throw FilterPattern.invalid() }
    }
}
