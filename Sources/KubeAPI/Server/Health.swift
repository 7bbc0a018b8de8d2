/// `/healthz`, `/livez` and `/readyz`, with their individual checks (`/livez/ping`) and `?verbose`.
enum Health {
    static let checks: [String: [String]] = [
        "healthz": ["ping", "log", "etcd"],
        "livez": ["ping", "log", "etcd"],
        "readyz": ["ping", "log", "etcd", "informer-sync", "shutdown"],
    ]

    /// The answer for a health path; nil for any other path.
    static func response(path: String, verbose: Bool) -> APIResponse? {
        let parts = path.split(separator: "/").map(String.init)
        guard let endpoint = parts.first, let names = checks[endpoint], parts.count <= 2 else { return nil }
        if parts.count == 2 {
            guard names.contains(parts[1]) else { return APIResponse.text("404 page not found\n", status: 404) }
            return .text("ok")
        }
        guard verbose else { return .text("ok") }
        return .text(names.map { "[+]\($0) ok\n" }.joined() + "\(endpoint) check passed\n")
    }
}

extension APIResponse {
    static func text(_ text: String, status: Int = 200) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
                    body: .bytes(Array(text.utf8)))
    }
}
