/// ISO-8601 text for instants and dates, without Foundation formatters.
public enum ISOTime {
    /// The day (since 1970-01-01) of a Unix time shifted by `offset` seconds (floor division).
    @inlinable
    public static func day(_ t: Int64, offset: Int64 = 0) -> Int64 {
        let l = t + offset
        return l >= 0 ? l / 86_400 : -((-(l + 1)) / 86_400) - 1
    }

    /// `YYYY-MM-DD` of a day since 1970-01-01.
    public static func formatDay(_ day: Int64) -> String {
        let (y, m, d) = civil(day)
        if y >= 0 && y <= 9999 {
            // Fixed width, one allocation (this runs for every stored event and occurrence).
            return String(unsafeUninitializedCapacity: 10) { b in
                putDigits(y, b, 0, 4); b[4] = 45; putDigits(m, b, 5, 2); b[7] = 45; putDigits(d, b, 8, 2)
                return 10
            }
        }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2)
    }

    /// The day since 1970-01-01 of `YYYY-MM-DD` alone; nil for anything else.
    public static func parseDay(_ s: String) -> Int64? {
        guard s.utf8.count == 10, let t = parse(s) else { return nil }
        return t / 86_400
    }

    /// Writes `v` as `width` decimal digits at `at` (fixed-width text, no allocation).
    static func putDigits(_ v: Int64, _ b: UnsafeMutableBufferPointer<UInt8>, _ at: Int, _ width: Int) {
        var v = v
        for i in stride(from: at + width - 1, through: at, by: -1) {
            b[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
            v /= 10
        }
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`
    public static func format(_ t: Int64) -> String {
        // Floor division without overflow, even at Int64.min (a header may hold any value).
        let days = t >= 0 ? t / 86_400 : -((-(t + 1)) / 86_400) - 1
        let secs = t % 86_400 < 0 ? t % 86_400 + 86_400 : t % 86_400
        let (y, m, d) = civil(days)
        if y >= 0 && y <= 9999 {
            // Fixed width: written into one 20-byte string (this runs for every stored event).
            return String(unsafeUninitializedCapacity: 20) { b in
                putDigits(y, b, 0, 4); b[4] = 45; putDigits(m, b, 5, 2); b[7] = 45; putDigits(d, b, 8, 2); b[10] = 84
                putDigits(secs / 3600, b, 11, 2); b[13] = 58; putDigits(secs % 3600 / 60, b, 14, 2); b[16] = 58
                putDigits(secs % 60, b, 17, 2); b[19] = 90
                return 20
            }
        }
        return pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2) + "T" + pad(secs / 3600, 2) + ":"
            + pad(secs % 3600 / 60, 2) + ":" + pad(secs % 60, 2) + "Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (also with fractional seconds, `+HH:MM` offsets or a
    /// date alone, taken as midnight UTC).
    public static func parse(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + len) {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 10, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var t = days(y, mo, d) * 86_400
        if b.count == 10 { return t }
        guard b.count >= 19, b[10] == 84 || b[10] == 116 || b[10] == 32, let h = num(11, 2), b[13] == 58,
              let mi = num(14, 2), b[16] == 58, let se = num(17, 2), h < 24, mi < 60, se < 61 else { return nil }
        t += h * 3600 + mi * 60 + se
        var i = 19
        if i < b.count && b[i] == 46 { i += 1; while i < b.count && b[i] >= 48 && b[i] <= 57 { i += 1 } }
        guard i < b.count else { return nil }   // an offset or Z is required
        if b[i] == 90 || b[i] == 122 { return i + 1 == b.count ? t : nil }
        guard b[i] == 43 || b[i] == 45, let oh = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58,
              let om = num(i + 4, 2), i + 6 == b.count else { return nil }
        let offset = oh * 3600 + om * 60
        return b[i] == 43 ? t - offset : t + offset
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func civil(_ z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func days(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
