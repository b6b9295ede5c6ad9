import Foundation
import Imaging

/// One self-contained HTML page from a `ReportPage`: styles and images inline,
/// no request to anything (safe to mail, to open offline, to keep as a CI
/// artifact). Every text from a manifest or the API is escaped.
public enum HTMLReport {
    public static func render(_ page: ReportPage) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
            <title>\(escape(page.title))</title>
            <style>\(style)</style>
            </head>
            <body data-jobs="\(page.jobCount)">
            <h1>\(escape(page.title))</h1>

            """
        for note in page.notes { html += "<p class=\"note\">\(escape(note))</p>\n" }
        for section in page.sections {
            html += "<section class=\"campaign\">\n<h2>\(escape(section.title))</h2>\n"
            for note in section.notes { html += "<p class=\"note\">\(escape(note))</p>\n" }
            for job in section.jobs { html += render(job) }
            html += "</section>\n"
        }
        html += "<pre id=\"image-check\" hidden></pre>\n<script>\(imageCheck)</script>\n</body>\n</html>\n"
        return html
    }

    static func render(_ job: ReportJob) -> String {
        var html = "<article class=\"job status-\(job.status.rawValue)\" id=\"job-\(escape(anchor(job.key)))\" data-job-key=\"\(escape(job.key))\">\n"
        html += "<h3>\(escape(job.heading)) <span class=\"status\">\(escape(job.status.rawValue))</span></h3>\n"
        if let detail = job.statusDetail { html += "<p class=\"status-detail\">\(escape(detail))</p>\n" }
        html += "<p class=\"source\">\(escape(job.sourcePath))</p>\n"
        for fact in job.facts { html += "<p class=\"fact\">\(escape(fact))</p>\n" }
        if let error = job.error { html += "<p class=\"error\">\(escape(error))</p>\n" }
        html += "<div class=\"images\">\n"
        html += renderSource(job)
        for output in job.outputs { html += render(output) }
        html += "</div>\n"
        if !job.warnings.isEmpty {
            html += "<ul class=\"warnings\">\n"
            for warning in job.warnings { html += "<li class=\"warning\">\(escape(warning))</li>\n" }
            html += "</ul>\n"
        }
        html += "</article>\n"
        return html
    }

    /// The downscaled source with each cover crop's box on it, placed in
    /// percentages of the source so the boxes stay right at any preview size.
    static func renderSource(_ job: ReportJob) -> String {
        var html = "<figure class=\"original\">\n"
        if let preview = job.preview, let original = job.original, original.width > 0, original.height > 0 {
            html += "<div class=\"frame\" style=\"width:\(preview.width)px;height:\(preview.height)px\">"
            html += "<img src=\"\(preview.dataURI)\" width=\"\(preview.width)\" height=\"\(preview.height)\" alt=\"source preview\">"
            for mark in job.cropMarks {
                if let centred = mark.centred {
                    html += "<div class=\"centred-box\" style=\"\(placement(centred, in: original))\" title=\"centred crop\"></div>"
                }
                html += "<div class=\"crop-box\" data-type=\"\(escape(mark.label))\" data-box=\"\(mark.box.x),\(mark.box.y),\(mark.box.width),\(mark.box.height)\" style=\"\(placement(mark.box, in: original))\"><span>\(escape(mark.label))</span></div>"
            }
            html += "</div>\n"
        } else {
            html += "<div class=\"missing\">source not shown (it does not decode, or is gone)</div>\n"
        }
        if let original = job.original {
            html += "<figcaption>original: \(caption(original))"
            if let url = original.cdnURL { html += "<br><span class=\"cdn\">\(escape(url))</span>" }
            html += "</figcaption>\n"
        }
        html += "</figure>\n"
        return html
    }

    static func render(_ output: ReportOutput) -> String {
        var html = "<figure class=\"output\" data-type=\"\(escape(output.type ?? "original"))\">\n"
        if let image = output.image {
            html += "<img src=\"\(image.dataURI)\" width=\"\(image.width)\" height=\"\(image.height)\" alt=\"\(escape(output.type ?? "original"))\">\n"
        }
        html += "<figcaption><b>\(escape(output.type ?? "original"))</b>: \(caption(output))"
        if let url = output.cdnURL {
            // Shown as text, never loaded: the page makes no request.
            html += "<br><span class=\"cdn\">\(escape(url))</span>"
        }
        html += "</figcaption>\n</figure>\n"
        return html
    }

    static func caption(_ output: ReportOutput) -> String {
        var parts = ["\(output.width)x\(output.height)", formatBytes(output.bytes), escape(output.contentType)]
        if let id = output.id { parts.append("id \(escape(id))") }
        if let state = output.state { parts.append(escape(state)) }
        return parts.joined(separator: ", ")
    }

    static func placement(_ box: CropBox, in original: ReportOutput) -> String {
        func percent(_ value: Int, _ whole: Int) -> String { String(format: "%.3f%%", Double(value) * 100 / Double(whole)) }
        return "left:\(percent(box.x, original.width));top:\(percent(box.y, original.height));"
            + "width:\(percent(box.width, original.width));height:\(percent(box.height, original.height))"
    }

    static func formatBytes(_ bytes: Int) -> String {
        bytes < 10_000 ? "\(bytes) B" : String(format: "%.1f KB", Double(bytes) / 1000)
    }

    /// An HTML id from a job key: letters, digits and `-` only.
    static func anchor(_ key: String) -> String {
        String(key.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
    }

    /// Text and attribute values: the five characters HTML gives meaning to.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// After load, each image's decoding is written into the page (what a
    /// headless browser's DOM dump shows, and a person can read with devtools).
    static let imageCheck = """
        window.addEventListener('load', function () {
          var images = Array.prototype.slice.call(document.images);
          var broken = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
          document.body.setAttribute('data-images', String(images.length));
          document.body.setAttribute('data-images-decoded', String(images.length - broken.length));
          var check = document.getElementById('image-check');
          check.textContent = JSON.stringify({images: images.length, decoded: images.length - broken.length,
            broken: broken.map(function (i) { return i.alt; }),
            widths: images.map(function (i) { return i.naturalWidth; })});
        });
        """

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fafafa}
        h1{font-size:20px}h2{font-size:17px;border-bottom:1px solid #ccc;padding-bottom:4px}
        .job{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px;margin:10px 0}
        .job h3{margin:0 0 4px;font-size:15px}.status{font-size:12px;padding:1px 6px;border-radius:8px;background:#ddd}
        .status-planned .status{background:#cde}.status-replaces .status{background:#fd9}.status-skipped .status{background:#eee;color:#777}
        .status-uploaded .status{background:#bdb}.status-failed .status{background:#f99}.status-resumes .status,.status-incomplete .status{background:#fec}
        .source,.fact,.status-detail,.note{margin:2px 0;color:#555;font-size:12px}.error{color:#b00}
        .images{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
        figure{margin:0}figcaption{font-size:12px;color:#444;max-width:600px;word-break:break-all}
        .frame{position:relative}.frame img{display:block;width:100%;height:100%}
        .crop-box{position:absolute;box-sizing:border-box;border:2px solid #f0f;box-shadow:0 0 0 1px #fff}
        .crop-box span{position:absolute;left:0;top:0;background:#f0f;color:#fff;font-size:10px;padding:0 3px}
        .centred-box{position:absolute;box-sizing:border-box;border:1px dashed #0cf}
        .output img{display:block;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px;border:1px solid #ccc}
        .warnings{margin:6px 0 0;padding-left:18px;color:#a60}.missing{padding:20px;background:#eee}
        .cdn{color:#357}
        """
}
