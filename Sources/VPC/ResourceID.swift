/// EC2-style resource ids: a prefix and 17 lowercase hex digits (`vpc-0a1b2c3d4e5f60718`).
public enum ResourceID {
    public static func make(_ prefix: String) -> String {
        let digits = Array("0123456789abcdef")
        return prefix + "-" + String((0..<17).map { _ in digits.randomElement()! })
    }
}
