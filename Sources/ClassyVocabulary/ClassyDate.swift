import Foundation
import SigV4

/// The API's datetime form, `2016-03-31T22:49:18+0000`. Parsing accepts any
/// offset (`+0200`, `-05:00`, `Z`) and converts to UTC; formatting always
/// writes UTC with `+0000`.
public enum ClassyDate {
    public static func format(_ date: Date) -> String {
        let t = UTCTime(epochSeconds: Int64(date.timeIntervalSince1970.rounded(.down)))
        func p(_ v: Int, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(t.year, 4))-\(p(t.month, 2))-\(p(t.day, 2))T\(p(t.hour, 2)):\(p(t.minute, 2)):\(p(t.second, 2))+0000"
    }

    public static func parse(_ s: String) -> Date? {
        let c = Array(s.utf8)
        guard c.count >= 19 else { return nil }
        func num(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r { guard i < c.count, (48...57).contains(c[i]) else { return nil }; v = v * 10 + Int(c[i] - 48) }
            return v
        }
        guard let y = num(0..<4), c[4] == UInt8(ascii: "-"), let mo = num(5..<7), c[7] == UInt8(ascii: "-"),
              let d = num(8..<10), c[10] == UInt8(ascii: "T") || c[10] == UInt8(ascii: " "),
              let h = num(11..<13), c[13] == UInt8(ascii: ":"), let mi = num(14..<16), c[16] == UInt8(ascii: ":"),
              let se = num(17..<19) else { return nil }
        var i = 19
        var fraction = 0.0
        if i < c.count, c[i] == UInt8(ascii: ".") {
            // Fractions are accepted and kept; the API itself never sends them.
            var scale = 0.1
            i += 1
            while i < c.count, (48...57).contains(c[i]) { fraction += Double(c[i] - 48) * scale; scale /= 10; i += 1 }
        }
        var offset = 0
        if i < c.count {
            if c[i] == UInt8(ascii: "Z") && i + 1 == c.count {
                offset = 0
            } else if c[i] == UInt8(ascii: "+") || c[i] == UInt8(ascii: "-") {
                let sign = c[i] == UInt8(ascii: "+") ? 1 : -1
                let rest = Array(c[(i + 1)...]).filter { $0 != UInt8(ascii: ":") }
                guard rest.count == 4, rest.allSatisfy({ (48...57).contains($0) }) else { return nil }
                let oh = Int(rest[0] - 48) * 10 + Int(rest[1] - 48), om = Int(rest[2] - 48) * 10 + Int(rest[3] - 48)
                guard oh <= 23, om <= 59 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            } else {
                return nil
            }
        }
        let t = UTCTime(year: y, month: mo, day: d, hour: h, minute: mi, second: se)
        guard t.isValid else { return nil }
        return Date(timeIntervalSince1970: Double(t.epochSeconds - Int64(offset)) + fraction)
    }
}
