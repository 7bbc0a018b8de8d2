import Foundation
import Synchronization

/// One control-plane component's log in the cluster's directory (`logs/NAME.log`), kept under `maxBytes`
/// with `maxBackups` older files beside it (`NAME.log.1` the newest), as kube-apiserver rotates its logs.
/// Written whether or not the cluster ships the log type anywhere, so a log turned on later starts full.
public final class ControlPlaneLog: Sendable {
    public static let defaultMaxBytes = 10 << 20
    public static let defaultMaxBackups = 2

    public let path: String
    private let maxBytes: Int
    private let maxBackups: Int
    /// The open file and its size; `fd` is -1 once closed.
    private let file: Mutex<(fd: Int32, size: Int)>
    /// Lines waiting to be shipped, while shipping is on (nil: off).
    private let pending = Mutex<[(timestamp: Int64, line: String)]?>(nil)
    /// Lines kept for shipping at most; older ones are dropped, as a full delivery buffer drops them.
    static let pendingLimit = 100_000

    public init(directory: URL, name: String, maxBytes: Int = defaultMaxBytes, maxBackups: Int = defaultMaxBackups) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("\(name).log").path
        self.maxBytes = maxBytes
        self.maxBackups = maxBackups
        let fd = Self.open(path)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        var status = stat()
        fstat(fd, &status)
        file = Mutex((fd, Int(status.st_size)))
    }

    deinit { close() }

    /// Appends one line (a newline is added). A full file is rotated first.
    public func append(_ line: String) {
        append(bytes: Array(line.utf8))
    }

    public func append(bytes line: [UInt8]) {
        pending.withLock { pending in
            guard pending != nil else { return }
            if pending!.count >= Self.pendingLimit { pending!.removeFirst(pending!.count / 10) }
            pending!.append((Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)), String(decoding: line, as: UTF8.self)))
        }
        var bytes = line
        bytes.append(UInt8(ascii: "\n"))
        file.withLock { file in
            guard file.fd >= 0 else { return }
            if file.size > 0, file.size + bytes.count > maxBytes { rotate(&file) }
            let written = bytes.withUnsafeBytes { Foundation.write(file.fd, $0.baseAddress, $0.count) }
            if written > 0 { file.size += written }
        }
    }

    /// Whether lines are kept for shipping from now on; turning it off drops what was waiting.
    public func ship(_ on: Bool) {
        pending.withLock { pending in
            if on { pending = pending ?? [] } else { pending = nil }
        }
    }

    /// The lines waiting to be shipped, taken.
    public func takePending() -> [(timestamp: Int64, line: String)] {
        pending.withLock { pending in
            guard let lines = pending, !lines.isEmpty else { return [] }
            pending = []
            return lines
        }
    }

    public func close() {
        file.withLock { file in
            if file.fd >= 0 { Foundation.close(file.fd) }
            file.fd = -1
        }
    }

    /// The lines kept, oldest first, backups included.
    public func lines() -> [String] {
        let paths = (1...max(maxBackups, 1)).reversed().map { "\(path).\($0)" } + [path]
        return file.withLock { _ in
            paths.flatMap { path -> [String] in
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
                return text.split(separator: "\n").map(String.init)
            }
        }
    }

    private func rotate(_ file: inout (fd: Int32, size: Int)) {
        Foundation.close(file.fd)
        if maxBackups > 0 {
            for index in stride(from: maxBackups - 1, through: 1, by: -1) { Foundation.rename("\(path).\(index)", "\(path).\(index + 1)") }
            Foundation.rename(path, "\(path).1")
        } else {
            Foundation.unlink(path)
        }
        file = (Self.open(path), 0)
    }

    private static func open(_ path: String) -> Int32 { Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644) }
}

/// Lines as logrus writes them, which the aws-iam-authenticator does: `time="…" level=info msg="…" key=value …`,
/// fields in name order, values quoted when they hold anything but plain characters.
enum LogfmtLine {
    static func line(level: String, message: String, fields: [String: String], at time: Date = Date()) -> String {
        var text = "time=\(quoted(time.formatted(.iso8601))) level=\(level) msg=\(quoted(message))"
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { text += " \(name)=\(quoted(value))" }
        return text
    }

    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || "-._/@^+".unicodeScalars.contains(scalar)
        }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
