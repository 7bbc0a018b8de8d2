import KubeModel

/// Kubernetes' name rules and the messages it gives for breaking them.
enum Names {
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    static let configKeyMessage = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

    static func isDNSLabel(_ name: String) -> Bool {
        guard (1...63).contains(name.utf8.count), let first = name.utf8.first, let last = name.utf8.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last) && name.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    static func isDNSSubdomain(_ name: String) -> Bool {
        name.utf8.count <= 253 && name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    static func isPathSegment(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("%")
    }

    static func isConfigKey(_ key: String) -> Bool {
        (1...253).contains(key.utf8.count) && key != "." && key != ".."
            && key.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// The problems with an object's name under a resource's rule.
    static func validate(_ name: String, rule: ResourceType.NameRule) -> [FieldError] {
        guard !name.isEmpty else { return [.required("metadata.name", "name or generateName is required")] }
        switch rule {
        case .label where !isDNSLabel(name):
            return [.invalid("metadata.name", .string(name), labelMessage)]
        case .subdomain where !isDNSSubdomain(name):
            return [.invalid("metadata.name", .string(name), subdomainMessage)]
        case .pathSegment where !isPathSegment(name):
            return [.invalid("metadata.name", .string(name), "may not contain '/' or '%', and may not be '.' or '..'")]
        default:
            return []
        }
    }

    /// Label keys and values, as `metadata.labels` requires.
    static func validateLabels(_ labels: [String: String]) -> [FieldError] {
        var errors: [FieldError] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            let name = parts.last ?? ""
            let prefixOK = parts.count == 1 || (parts.count == 2 && isDNSSubdomain(parts[0]))
            if parts.count > 2 || !prefixOK || !isQualifiedName(name) {
                errors.append(.invalid("metadata.labels", .string(key), "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
            }
            if !value.isEmpty && !isQualifiedName(value) {
                errors.append(.invalid("metadata.labels", .string(value), "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"))
            }
        }
        return errors
    }

    static func isQualifiedName(_ text: String) -> Bool {
        guard (1...63).contains(text.utf8.count), let first = text.utf8.first, let last = text.utf8.last else { return false }
        func alnum(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
        return alnum(first) && alnum(last)
            && text.utf8.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }
}
