import Foundation
import VPC

/// The checks EKS makes on names, ARNs, tags and labels.
enum Validation {
    /// Cluster and node group names: a letter or digit, then letters, digits, `-` and `_`.
    static func name(_ name: String, field: String, maxLength: Int) throws(EKSError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        guard let first = name.first, first.isASCII, first.isLetter || first.isNumber,
              name.count <= maxLength, name.allSatisfy(allowed.contains) else {
            throw EKSError.invalidParameter(
                "\(field) '\(name)' is invalid: it must be 1 to \(maxLength) characters, start with a letter or digit, and contain only letters, digits, hyphens and underscores.")
        }
    }

    static func roleArn(_ arn: String, field: String) throws(EKSError) {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[1].hasPrefix("aws"), parts[2] == "iam",
              parts[4].count == 12, parts[4].allSatisfy(\.isNumber), parts[5].hasPrefix("role/"), parts[5].count > 5 else {
            throw EKSError.invalidParameter("\(field) '\(arn)' is not a valid IAM role ARN.")
        }
    }

    /// AWS tag rules: at most 50, keys 1–128 characters and not `aws:`-prefixed, values up to 256.
    static func tags(_ tags: [String: String], error: (String) -> EKSError) throws(EKSError) {
        guard tags.count <= 50 else { throw error("A resource can have at most 50 tags.") }
        for (key, value) in tags {
            guard (1...128).contains(key.count) else { throw error("Tag key '\(key)' must be 1 to 128 characters.") }
            guard !key.lowercased().hasPrefix("aws:") else { throw error("Tag keys starting with 'aws:' are reserved for AWS use.") }
            guard value.count <= 256 else { throw error("Tag value for key '\(key)' must be at most 256 characters.") }
        }
    }

    /// Kubernetes label keys (optional DNS prefix and a name of up to 63 characters) and values.
    static func labels(_ labels: [String: String], nodegroup: String?) throws(EKSError) {
        for (key, value) in labels {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            let name = String(parts.last ?? "")
            let prefixOK = parts.count == 1 || (parts.count == 2 && isDNSSubdomain(String(parts[0])))
            guard parts.count <= 2, prefixOK, isLabelName(name), value.isEmpty || isLabelName(value) else {
                throw EKSError.invalidParameter("Label '\(key)=\(value)' is not a valid Kubernetes label.", nodegroup: nodegroup)
            }
        }
    }

    static func isLabelName(_ text: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard let first = text.first, let last = text.last, text.count <= 63 else { return false }
        return first.isASCII && (first.isLetter || first.isNumber) && last.isASCII && (last.isLetter || last.isNumber)
            && text.allSatisfy(allowed.contains)
    }

    /// An RFC 1123 label, as a namespace's name must be.
    static func isDNSLabel(_ text: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        return (1...63).contains(text.count) && text.allSatisfy(allowed.contains) && text.first != "-" && text.last != "-"
    }

    static func isDNSSubdomain(_ text: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        return (1...253).contains(text.count) && text.allSatisfy(allowed.contains)
            && text.first != "-" && text.last != "-" && text.first != "." && text.last != "."
    }

    static func taints(_ taints: [Taint], nodegroup: String?) throws(EKSError) {
        guard taints.count <= 50 else {
            throw EKSError.invalidParameter("A node group can have at most 50 taints.", nodegroup: nodegroup)
        }
        for taint in taints {
            guard let key = taint.key, !key.isEmpty, taint.effect != nil else {
                throw EKSError.invalidParameter("Each taint needs a key and an effect.", nodegroup: nodegroup)
            }
            try labels([key: taint.value ?? ""], nodegroup: nodegroup)
        }
    }

    static func cidrs(_ cidrs: [String], field: String) throws(EKSError) {
        for cidr in cidrs where IPv4CIDR(cidr) == nil {
            throw EKSError.invalidParameter("\(field) contains an invalid CIDR block: \(cidr).")
        }
    }
}
