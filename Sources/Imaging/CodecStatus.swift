import CImageCodecs

extension ImagingError {
    /// Turns a C shim's status into a typed error for `format`.
    init(status: ic_status, format: ImageFormat) {
        var status = status
        let message = withUnsafeBytes(of: &status.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let code: Code =
            switch Int(status.code) {
            case Int(IC_TRUNCATED): .truncated
            case Int(IC_UNSUPPORTED): .unsupported
            case Int(IC_TOO_LARGE): .tooLarge
            case Int(IC_ENCODE_FAILED), Int(IC_NO_MEMORY): .encodeFailed
            default: .corrupt
            }
        self.init(code, format: format, message.isEmpty ? "decoding failed" : message)
    }
}

extension ic_buffer {
    /// Copies the C-owned bytes into a Swift array and frees them.
    mutating func takeBytes() -> [UInt8] {
        defer { ic_buffer_free(&self) }
        guard let data, size > 0 else { return [] }
        return [UInt8](UnsafeBufferPointer(start: data, count: size))
    }
}
