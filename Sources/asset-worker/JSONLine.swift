import Foundation

/// Prints one compact JSON object per line with stable (sorted) keys.
enum JSONLine {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func print<T: Encodable>(_ value: T) {
        Swift.print(encode(value))
    }
}
