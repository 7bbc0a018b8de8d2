import KubeModel

/// YAML request bodies (`application/yaml`, and `application/apply-patch+yaml` from clients other than
/// kubectl), read into the JSON they stand for, as the API server converts them.
enum YAMLDocument {
    static func json(from text: String) throws(APIError) -> JSON {
        let json: JSON?
        do {
            json = try YAMLConversion.json(from: text)
        } catch {
            throw .badRequest("error converting YAML to JSON: \(error)")
        }
        guard let json else { throw .badRequest("the body of the request is empty") }
        return json
    }
}
