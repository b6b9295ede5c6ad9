extension Image {
    /// The rotate action: clockwise degrees. Multiples of 90 are exact pixel
    /// moves; other angles are bicubic on an enlarged canvas whose corners are
    /// transparent when the output format has alpha (PNG, GIF) and
    /// `options.background` otherwise (JPEG).
    func rotatedForAction(degrees: Double, outputHasAlpha: Bool, options: ProcessingOptions) throws(ImagingError) -> Image {
        try rotated(degrees: degrees, options: RotateOptions(
            background: options.background, addingAlpha: outputHasAlpha, threads: options.threads, path: options.kernelPath))
    }
}

extension Image {
    /// `rotatedForAction(degrees:outputHasAlpha:options:)` in this image's own
    /// storage where `rotate(degrees:options:)` can (a half turn).
    mutating func rotateForAction(degrees: Double, outputHasAlpha: Bool, options: ProcessingOptions) throws(ImagingError) {
        try rotate(degrees: degrees, options: RotateOptions(
            background: options.background, addingAlpha: outputHasAlpha, threads: options.threads, path: options.kernelPath))
    }
}
