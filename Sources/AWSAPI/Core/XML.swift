/// A small XML tree for the query and EC2 protocols' responses.
public struct XMLElement: Sendable {
    public let name: String
    public let attributes: [(String, String)]
    public let text: String?
    public let children: [XMLElement]

    public init(_ name: String, attributes: [(String, String)] = [], _ children: [XMLElement]) {
        self.name = name
        self.attributes = attributes
        self.text = nil
        self.children = children
    }

    public init(_ name: String, _ text: String) {
        self.name = name
        self.attributes = []
        self.text = text
        self.children = []
    }

    /// An element only when there is a value to put in it.
    public static func optional(_ name: String, _ text: String?) -> [XMLElement] {
        text.map { [XMLElement(name, $0)] } ?? []
    }

    /// A list as EC2 writes one: `<name><item>…</item>…</name>`.
    public static func list<T>(_ name: String, _ items: [T], _ item: (T) -> [XMLElement]) -> XMLElement {
        XMLElement(name, items.map { XMLElement("item", item($0)) })
    }

    public var document: String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        write(to: &out)
        return out
    }

    func write(to out: inout String) {
        out += "<\(name)"
        for (key, value) in attributes { out += " \(key)=\"\(Self.escape(value))\"" }
        out += ">"
        if let text { out += Self.escape(text) }
        for child in children { child.write(to: &out) }
        out += "</\(name)>"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
