/// A typed view over one object's JSON: the metadata every view reads the same way.
public protocol TypedView: Sendable {
    var object: JSON { get }
}

extension TypedView {
    public var name: String { object.name }
    /// For a namespaced object; `default` when the object names none.
    public var namespace: String { object.namespace ?? "default" }
    public var key: ObjectKey { object.objectKey }
    public var uid: String { object.uid ?? "" }
    public var labels: [String: String] { object.labels }
}
