import CGeometry
import Dispatch
import Foundation

extension PixelBuffer {
    /// The pixels turned upright for an EXIF orientation tag, so the result
    /// displays correctly with no tag at all.
    ///
    /// 1 (or anything outside 1...8) returns the buffer as it is. 2 mirrors
    /// left-right, 3 turns 180 degrees, 4 mirrors top-bottom, 5 transposes
    /// (mirror along the top-left diagonal), 6 turns 90 degrees clockwise,
    /// 7 transverses (mirror along the top-right diagonal) and 8 turns 90 degrees
    /// counter-clockwise. 5...8 swap width and height.
    ///
    /// Runs on every active processor with the fastest kernels the CPU has;
    /// `applyingOrientation(_:threads:path:)` chooses both.
    public func applyingOrientation(_ exif: Int) -> PixelBuffer {
        oriented(exif, threads: nil, kernel: KernelPath.automatic.kernelPath)
    }

    /// `applyingOrientation(_:)` on `threads` threads (nil: every active
    /// processor) with a forced kernel path; a path the CPU lacks is
    /// `unsupported`, as it is for resizing. Every choice gives the same pixels.
    public func applyingOrientation(_ exif: Int, threads: Int?, path: KernelPath) throws(ImagingError) -> PixelBuffer {
        oriented(exif, threads: threads, kernel: try path.resolved().kernelPath)
    }

    /// Turns this buffer upright for an EXIF orientation tag (as
    /// `applyingOrientation(_:)`, the same pixels). A half turn (3) works in
    /// the buffer's own storage (`turnHalfInPlace`): a uniquely held buffer,
    /// such as a decoder's fresh output, then needs no second image-sized
    /// buffer and pays no page faults or kernel page zeroing for one. The
    /// other orientations replace the buffer with a new one.
    public mutating func applyOrientation(_ exif: Int) {
        applyOrientation(exif, threads: nil, kernel: KernelPath.automatic.kernelPath)
    }

    /// `applyOrientation(_:)` on `threads` threads with a forced kernel path
    /// (a path the CPU lacks is `unsupported`); every choice gives the same pixels.
    public mutating func applyOrientation(_ exif: Int, threads: Int?, path: KernelPath) throws(ImagingError) {
        applyOrientation(exif, threads: threads, kernel: try path.resolved().kernelPath)
    }

    private mutating func applyOrientation(_ exif: Int, threads: Int?, kernel: Int32) {
        if exif == 3 {
            halfTurnInPlace(threads: threads, kernel: kernel)
        } else if (2 ... 8).contains(exif) {
            self = oriented(exif, threads: threads, kernel: kernel)
        }
    }

    private func oriented(_ exif: Int, threads: Int?, kernel: Int32) -> PixelBuffer {
        guard (2 ... 8).contains(exif), width > 0, height > 0 else { return self }
        let swapsSides = exif >= 5
        let outWidth = swapsSides ? height : width, outHeight = swapsSides ? width : height
        let w = Int32(width), h = Int32(height), c = Int32(channels), e = Int32(exif)
        return PixelBuffer(width: outWidth, height: outHeight, layout: layout) { out in
            let target = UncheckedSendable(out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            bytes.withUnsafeBufferPointer { input in
                let source = UncheckedSendable(input.baseAddress!)
                OutputStripes(rows: outHeight, threads: threads).run { rows in
                    geo_orient_u8(source.value, w, h, c, e, target.value, Int32(rows.lowerBound), Int32(rows.upperBound), kernel)
                }
            }
        }
    }

    /// Turns the image 180 degrees in its own storage (EXIF orientation 3),
    /// the same pixels as `applyingOrientation(3)`. It needs no second
    /// image-sized buffer, so it pays no page faults and no kernel page
    /// zeroing for one; when the storage is shared with another buffer, the
    /// first write copies it (copy-on-write) and the result is still right.
    /// A forced path the CPU lacks is `unsupported`.
    public mutating func turnHalfInPlace(threads: Int? = nil, path: KernelPath = .automatic) throws(ImagingError) {
        halfTurnInPlace(threads: threads, kernel: try path.resolved().kernelPath)
    }

    private mutating func halfTurnInPlace(threads: Int?, kernel: Int32) {
        guard width > 0, height > 0 else { return }
        let pixels = pixelCount, c = Int32(channels)
        // Split the front half of the run (pairs of pixels that swap) into stripes of whole rows.
        let stripes = OutputStripes(rows: height / 2, threads: threads)
        let halfRows = height / 2
        bytes.withUnsafeMutableBufferPointer { buffer in
            let base = UncheckedSendable(buffer.baseAddress!)
            let width = self.width
            stripes.run { rows in
                // The last stripe also takes the middle row's front half (odd heights).
                let end = rows.upperBound == halfRows ? pixels / 2 : rows.upperBound * width
                geo_half_turn_in_place_u8(base.value, pixels, c, rows.lowerBound * width, end, kernel)
            }
        }
    }
}

/// Splits output rows into one stripe per thread and runs them in parallel.
/// Stripes start on multiples of 8 rows so the blocked kernels' tiles are
/// whole except at the image edges.
struct OutputStripes {
    let rows: Int
    let count: Int

    private static let alignment = 8

    init(rows: Int, threads: Int?) {
        self.rows = rows
        let wanted = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        count = max(1, min(wanted, rows / Self.alignment))
    }

    func stripe(_ s: Int) -> Range<Int> {
        func boundary(_ k: Int) -> Int { k == count ? rows : rows * k / count / Self.alignment * Self.alignment }
        return boundary(s) ..< boundary(s + 1)
    }

    func run(_ body: @Sendable (Range<Int>) -> Void) {
        if count == 1 {
            body(0 ..< rows)
        } else {
            DispatchQueue.concurrentPerform(iterations: count) { s in body(stripe(s)) }
        }
    }
}

/// Asks Linux to back a large, freshly allocated output with transparent
/// huge pages before the kernels first touch it. glibc serves buffers this
/// big straight from mmap, so otherwise every 4 KiB page faults on first
/// write: for a 72 MB image that is ~18,000 faults, several times the cost
/// of moving the pixels (NumPy does the same, which is part of why OpenCV's
/// rotations look fast). Only a hint: ignored where THP is off.
@usableFromInline
enum HugePageHint {
    /// Below this the faults are cheap next to the work.
    @usableFromInline static let threshold = 4 << 20

    @usableFromInline
    static func advise(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard buffer.count >= threshold, let base = buffer.baseAddress else { return }
        let page = 4096
        let start = (Int(bitPattern: base) + page - 1) & ~(page - 1)
        let end = (Int(bitPattern: base) + buffer.count) & ~(page - 1)
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(pointer, end - start, MADV_HUGEPAGE)
        #endif
    }
}
