extension Image {
    /// The rotate action: clockwise degrees; multiples of 90 are exact pixel moves.
    func rotatedForAction(degrees: Double, outputHasAlpha: Bool, options: ProcessingOptions) throws(ImagingError) -> Image {
        guard degrees.isFinite else { throw ImagingError(.invalidArgument, "rotation angle must be a finite number") }
        var turn = degrees.truncatingRemainder(dividingBy: 360)
        if turn < 0 { turn += 360 }
        let exif: Int? =
            switch turn {
            case 0: 1
            case 90: 6
            case 180: 3
            case 270: 8
            default: nil
            }
        guard let exif else {
            // TEMPORARY until the rotation kernels land (this session).
            throw ImagingError(.unsupported, "rotation by \(degrees) degrees is not available yet")
        }
        var result = self
        for index in frames.indices {
            result.frames[index].pixels = frames[index].pixels.applyingOrientation(exif)
        }
        return result
    }
}
