import KubeModel

/// The simple JSONPath of `additionalPrinterColumns` (`.spec.replicas`, `.status.conditions[0].type`).
enum JSONPathColumn {
    static func evaluate(_ path: String, in object: JSON) -> JSON? {
        var current: JSON? = object
        let trimmed = path.hasPrefix("{") && path.hasSuffix("}") ? String(path.dropFirst().dropLast()) : path
        for var part in trimmed.split(separator: ".").map(String.init) {
            var index: Int?
            if let open = part.firstIndex(of: "["), part.hasSuffix("]") {
                index = Int(part[part.index(after: open)..<part.index(before: part.endIndex)])
                part = String(part[..<open])
            }
            if !part.isEmpty { current = current?[part] }
            if let index { current = current?.array.flatMap { $0.indices.contains(index) ? $0[index] : nil } }
        }
        return current
    }
}
