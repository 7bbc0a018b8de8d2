import Testing
@testable import CloudWatchLogs

struct FilterPatternTests {
    func matches(_ pattern: String, _ message: String) throws -> Bool { try FilterPattern(pattern).matches(message) }

    @Test func termsPhrasesAlternativesAndExclusions() throws {
        #expect(try matches("", "anything"))
        #expect(try matches("ERROR", "level ERROR here"))
        #expect(try !matches("ERROR", "level error here"))
        #expect(try matches("ERROR timeout", "timeout after ERROR"))
        #expect(try !matches("ERROR timeout", "ERROR only"))
        #expect(try matches("\"connection refused\"", "dial: connection refused"))
        #expect(try !matches("\"connection refused\"", "connection was refused"))
        #expect(try matches("?ERROR ?WARN", "a WARN line"))
        #expect(try !matches("?ERROR ?WARN", "an INFO line"))
        #expect(try matches("ERROR -retrying", "ERROR gave up"))
        #expect(try !matches("ERROR -retrying", "ERROR retrying"))
        #expect(throws: LogsError.self) { try FilterPattern("\"unclosed") }
        #expect(throws: LogsError.self) { try FilterPattern("a(b") }
    }

    @Test func jsonSelectors() throws {
        let audit = #"{"kind":"Event","verb":"get","user":{"username":"alice","groups":["devs"]},"responseStatus":{"code":403},"stage":"ResponseComplete","ok":false,"gone":null}"#
        #expect(try matches(#"{ $.verb = "get" }"#, audit))
        #expect(try matches(#"{ $.user.username = "ali*" }"#, audit))
        #expect(try matches(#"{ $.user.groups[0] = devs }"#, audit))
        #expect(try matches(#"{ $.responseStatus.code >= 400 && $.verb != "list" }"#, audit))
        #expect(try !matches(#"{ $.responseStatus.code < 400 }"#, audit))
        #expect(try matches(#"{ ($.verb = "list") || ($.responseStatus.code = 403) }"#, audit))
        #expect(try matches(#"{ $.ok IS FALSE && $.gone IS NULL && $.missing NOT EXISTS }"#, audit))
        #expect(try !matches(#"{ $.verb = "get" }"#, "not json"))
        #expect(try !matches(#"{ $.nothing = "get" }"#, audit))
        #expect(throws: LogsError.self) { try FilterPattern("{ $.verb = }") }
        #expect(throws: LogsError.self) { try FilterPattern("{ verb = 1 }") }
        #expect(throws: LogsError.self) { try FilterPattern(#"{ $.code > "x" }"#) }
    }
}
