public import FeedModel
import ICalendarFeeds
import Records

extension FormatRegistry {
    /// The formats feedsync knows: `ics` (the default), `json` and `csv`.
    public static var standard: FormatRegistry {
        var r = FormatRegistry()
        r.registerICalendar()
        r.registerRecords()
        return r
    }
}
