extension AWSRequest {
    /// The parameters of a query-style request: the URL query and, for a POST, the form body.
    var queryParameters: QueryParameters {
        let form = method == "POST" ? SignableRequestForm.decode(body) : []
        return QueryParameters(query + form)
    }
}

import Auth

enum SignableRequestForm {
    static func decode(_ body: [UInt8]) -> [(name: String, value: String)] {
        SignableRequest.decodeForm(String(decoding: body, as: UTF8.self), plusIsSpace: true)
    }
}
