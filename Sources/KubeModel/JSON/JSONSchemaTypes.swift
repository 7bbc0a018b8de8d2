/// JSON values as JSON Schema sees them, for the validators of custom resources and of EKS add-on configuration.
extension JSON {
    /// `null`, `boolean`, `integer`, `number`, `string`, `array` or `object`.
    public var schemaType: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Whether the value is of the schema `type` (a whole `number` counts as an `integer`).
    public func isOfSchemaType(_ type: String) -> Bool {
        switch (type, self) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null), ("integer", .int),
             ("number", .int), ("number", .double):
            true
        case ("integer", .double(let number)):
            number == number.rounded()
        default:
            false
        }
    }

    /// A number's value; nil for anything else.
    public var numericValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// `3` for a whole number, `2.5` otherwise, as validators quote bounds.
    public static func formatNumber(_ number: Double) -> String {
        number == number.rounded() ? String(Int64(number)) : String(number)
    }
}
