import Foundation

/// The API's datetime form, `2016-03-31T22:49:18+0000`: always written in UTC;
/// read with any offset and converted to UTC.
public enum ClassyDate {
    public static func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d+0000", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// Accepts `+hhmm`, `+hh:mm`, `-hhmm` and `Z`.
    public static func parse(_ text: String) -> Date? {
        let chars = Array(text.utf8)
        guard chars.count >= 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var value = 0
            for ch in chars[from ..< from + count] {
                guard ch >= 48, ch <= 57 else { return nil }
                value = value * 10 + Int(ch - 48)
            }
            return value
        }
        guard let year = number(0, 4), chars[4] == 45, let month = number(5, 2), chars[7] == 45,
              let day = number(8, 2), chars[10] == 84 || chars[10] == 32,
              let hour = number(11, 2), chars[13] == 58, let minute = number(14, 2), chars[16] == 58,
              let second = number(17, 2)
        else { return nil }
        var offsetSeconds = 0
        let zone = Array(chars[19...])
        if zone == [90] {
            offsetSeconds = 0
        } else if let sign = zone.first, sign == 43 || sign == 45 {
            let digits = zone.dropFirst().filter { $0 != 58 }
            guard digits.count == 4, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            let d = digits.map { Int($0 - 48) }
            offsetSeconds = ((d[0] * 10 + d[1]) * 60 + d[2] * 10 + d[3]) * 60
            if sign == 45 { offsetSeconds = -offsetSeconds }
        } else {
            return nil
        }
        guard (1 ... 12).contains(month), (1 ... 31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let local = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
        else { return nil }
        return local.addingTimeInterval(TimeInterval(-offsetSeconds))
    }
}
